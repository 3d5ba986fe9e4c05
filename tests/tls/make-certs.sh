#!/bin/sh
# Test certificates for the TLS tests, made by openssl (never by azrelay's
# code). Usage: make-certs.sh DIR. Creates, valid for ten years:
#   ca.pem / ca.key            test CA (EC P-256)
#   server.pem / server.key    "localhost" (DNS SAN), signed by the test CA
#   other-ca.pem               a second CA, unknown to the proxy
#   other.pem / other.key      "localhost", signed by the second CA
#   rsa.pem / rsa.key          "localhost", RSA 2048 key (PKCS#1), signed by the test CA
#   server.p8                  server.key as unencrypted PKCS#8
#   both.pem                   server.pem and server.key in one file
#   rsa-both.pem               rsa.pem and rsa.key in one file
#   web.pem                    "localhost", EC, 365 days, with a CRL distribution point, and
#                              its key, in one file: for testssl.sh, which rates long-lived
#                              certificates and ones without revocation info as findings
#   client.pem / client.key    a client certificate (clientAuth) with a full subject (C, ST, L,
#                              O, OU, CN, emailAddress), signed by the test CA; client-both.pem
#   other-client.pem / .key    a client certificate signed by the second CA; other-client-both.pem
#   comma.pem                  a self-signed certificate whose O holds a comma (name printing)
#   expired.pem / expired.key  "localhost", signed by the test CA, valid 2020-01-01..2021-01-01
#   wrongname.pem / .key       "wrong.example" (DNS SAN), signed by the test CA
#   *.der                      client.pem, comma.pem and expired.pem in DER, for the parsers
set -eu
d=$1
mkdir -p "$d"
cd "$d"
[ -f stamp-2 ] && exit 0 # bump the stamp when this list grows
ec() { openssl ecparam -name prime256v1 -genkey -noout -out "$1" 2>/dev/null; }
ca() { # name key subject
    ec "$2"
    openssl req -x509 -new -key "$2" -sha256 -days 3650 -subj "/CN=$3" \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
        -out "$1" 2>/dev/null
}
leaf() { # name key ca cakey [rsa|client] [subject] [san]
    if [ "${5:-}" = rsa ]; then
        openssl genrsa -traditional -out "$2" 2048 2>/dev/null || openssl genrsa -out "$2" 2048 2>/dev/null
    else
        ec "$2"
    fi
    openssl req -new -key "$2" -subj "${6:-/CN=localhost}" -out "$1.csr" 2>/dev/null
    if [ "${5:-}" = client ]; then
        printf 'basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n' > "$1.ext"
    else
        printf 'subjectAltName=DNS:%s\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' "${7:-localhost}" > "$1.ext"
    fi
    openssl x509 -req -in "$1.csr" -CA "$3" -CAkey "$4" -CAcreateserial -days 3650 -sha256 \
        -extfile "$1.ext" -out "$1" 2>/dev/null
    rm -f "$1.csr" "$1.ext"
}
ca ca.pem ca.key "azrelay test CA"
leaf server.pem server.key ca.pem ca.key
ca other-ca.pem other-ca.key "azrelay other CA"
leaf other.pem other.key other-ca.pem other-ca.key
leaf rsa.pem rsa.key ca.pem ca.key rsa
openssl pkcs8 -topk8 -nocrypt -in server.key -out server.p8
cat server.pem server.key > both.pem
cat rsa.pem rsa.key > rsa-both.pem
ec web.key
openssl req -new -key web.key -subj "/CN=localhost" -out web.csr 2>/dev/null
printf 'subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature\ncrlDistributionPoints=URI:http://crl.example.invalid/azrelay-test.crl\n' > web.ext
openssl x509 -req -in web.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 365 -sha256 \
    -extfile web.ext -out web.crt 2>/dev/null
cat web.crt web.key > web.pem
rm -f web.csr web.ext web.crt web.key

leaf client.pem client.key ca.pem ca.key client \
    "/C=US/ST=Washington/L=Redmond/O=azrelay test/OU=gateways/CN=client one/emailAddress=ops@example.com"
cat client.pem client.key > client-both.pem
leaf other-client.pem other-client.key other-ca.pem other-ca.key client "/O=elsewhere/CN=client two"
cat other-client.pem other-client.key > other-client-both.pem
leaf wrongname.pem wrongname.key ca.pem ca.key "" "/CN=wrong.example" wrong.example
ec comma.key
openssl req -x509 -new -key comma.key -sha256 -days 3650 -subj "/C=US/O=Acme, Inc./CN=comma test" \
    -out comma.pem 2>/dev/null
# an expired certificate: openssl x509 cannot back-date, openssl ca can
ec expired.key
openssl req -new -key expired.key -subj "/CN=localhost" -out expired.csr 2>/dev/null
mkdir -p ca.db
: > ca.db/index.txt
echo 1000 > ca.db/serial
printf '[ca]\ndefault_ca=d\n[d]\ndatabase=ca.db/index.txt\nserial=ca.db/serial\nnew_certs_dir=ca.db\ndefault_md=sha256\npolicy=p\n[p]\ncommonName=supplied\n' > ca.cnf
printf 'subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' > expired.ext
openssl ca -batch -config ca.cnf -cert ca.pem -keyfile ca.key -in expired.csr -out expired.pem \
    -startdate 20200101000000Z -enddate 20210101000000Z -extfile expired.ext -notext 2>/dev/null
rm -rf ca.db ca.cnf expired.csr expired.ext
for f in client comma expired; do openssl x509 -in $f.pem -outform DER -out $f.der; done
touch stamp-2
