# Sourced by build.sh and third_party/bearssl.sh (POSIX sh): what $CC builds for.
#
#   azr_target CC     sets AZR_TRIPLET (from `CC -dumpmachine`, vendor dropped:
#                     x86_64-pc-linux-gnu -> x86_64-linux-gnu), AZR_LIBC (glibc,
#                     musl, uclibc, bionic or libc) and AZR_TARGET, the name of
#                     the configuration: the triplet, plus "-LIBC" when the C
#                     library is not the one the triplet names (musl-gcc says
#                     x86_64-linux-gnu: x86_64-linux-gnu-musl).
#   azr_debian_arch TRIPLET   Debian's architecture name (arm64, armhf, ...), or "".
#   azr_tool CC NAME  the binutils program NAME (ar, strip, nm) that goes with CC:
#                     aarch64-linux-gnu-gcc -> aarch64-linux-gnu-ar when it exists.

azr_target() {
    at_cc=$1
    at_m=$($at_cc -dumpmachine 2>/dev/null) || at_m=""
    [ -n "$at_m" ] || at_m=unknown-unknown-unknown
    # a four-part triplet has a vendor (pc, unknown, linux-gnu's "none"...): drop it
    case $at_m in
    *-*-*-*) AZR_TRIPLET=${at_m%%-*}-${at_m#*-*-} ;;
    *) AZR_TRIPLET=$at_m ;;
    esac
    # the C library's own macro, else the path its headers came from (musl has no macro)
    at_e=$(printf '#include <limits.h>\n#if defined __GLIBC__ && !defined __UCLIBC__\nazr_libc=glibc\n#elif defined __UCLIBC__\nazr_libc=uclibc\n#elif defined __BIONIC__\nazr_libc=bionic\n#else\nazr_libc=libc\n#endif\n' |
        $at_cc ${CPPFLAGS:-} ${CFLAGS:-} -E -x c - 2>/dev/null) || at_e=""
    at_l=$(printf '%s\n' "$at_e" | sed -n 's/^azr_libc=//p')
    if [ "$at_l" = libc ]; then
        case "$AZR_TRIPLET $at_e" in
        *musl*) at_l=musl ;;
        esac
    fi
    AZR_LIBC=${at_l:-libc}
    case $AZR_TRIPLET in
    *-gnu | *-gnueabi | *-gnueabihf | *-gnux32 | *-gnuabi64 | *-gnuabin32 | *-gnuspe) at_implied=glibc ;;
    *musl*) at_implied=musl ;;
    *uclibc*) at_implied=uclibc ;;
    *android*) at_implied=bionic ;;
    *) at_implied="" ;;
    esac
    if [ "$AZR_LIBC" = "$at_implied" ]; then
        AZR_TARGET=$AZR_TRIPLET
    else
        AZR_TARGET=$AZR_TRIPLET-$AZR_LIBC
    fi
}

azr_debian_arch() {
    case $1 in
    x86_64-linux-gnu) echo amd64 ;;
    aarch64-linux-gnu) echo arm64 ;;
    arm-linux-gnueabihf) echo armhf ;;
    arm-linux-gnueabi) echo armel ;;
    i?86-linux-gnu) echo i386 ;;
    riscv64-linux-gnu) echo riscv64 ;;
    powerpc64le-linux-gnu) echo ppc64el ;;
    s390x-linux-gnu) echo s390x ;;
    mips64el-linux-gnuabi64) echo mips64el ;;
    mipsel-linux-gnu) echo mipsel ;;
    *) echo "" ;;
    esac
}

azr_tool() {
    # the last word of CC ("ccache aarch64-linux-gnu-gcc") names the toolchain
    for at_w in $1; do :; done
    at_w=${at_w##*/}
    case $at_w in
    *-gcc | *-cc | *-clang | *-gcc-[0-9]*)
        at_p=${at_w%-gcc-[0-9]*}
        [ "$at_p" = "$at_w" ] && at_p=${at_w%-*}
        if command -v "$at_p-$2" >/dev/null 2>&1; then
            echo "$at_p-$2"
            return 0
        fi
        ;;
    esac
    echo "$2"
}
