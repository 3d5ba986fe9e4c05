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
set -eu
d=$1
mkdir -p "$d"
cd "$d"
[ -f web.pem ] && exit 0
ec() { openssl ecparam -name prime256v1 -genkey -noout -out "$1" 2>/dev/null; }
ca() { # name key subject
    ec "$2"
    openssl req -x509 -new -key "$2" -sha256 -days 3650 -subj "/CN=$3" \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
        -out "$1" 2>/dev/null
}
leaf() { # name key ca cakey [rsa]
    if [ "${5:-}" = rsa ]; then
        openssl genrsa -traditional -out "$2" 2048 2>/dev/null || openssl genrsa -out "$2" 2048 2>/dev/null
    else
        ec "$2"
    fi
    openssl req -new -key "$2" -subj "/CN=localhost" -out "$1.csr" 2>/dev/null
    printf 'subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' > "$1.ext"
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
