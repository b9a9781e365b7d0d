#!/usr/bin/env python3
"""Writes the IMA ascii-list fixtures in this folder.

Each line is built the way the kernel builds it (security/integrity/ima): the template data
is the concatenation of the fields, each prefixed with its little-endian u32 length (the
original 'ima' template instead hashes the 20-byte digest and the name padded to 256
bytes), and the printed template hash is SHA-1 over that data. real_world.txt holds lines
captured from real kernels that this construction reproduces, which is what ties these
fixtures to the kernel's format.

The digest of ../bin/fixture-exe appears in the lists that should match it; the file names
say which ones. Run from this folder: python3 generate.py
"""
import hashlib
import struct

FIXTURE_EXE = open("../bin/fixture-exe", "rb").read()
EXE_SHA256 = hashlib.sha256(FIXTURE_EXE).hexdigest()
EXE_SHA1 = hashlib.sha1(FIXTURE_EXE).hexdigest()
EXE_PATH = "/usr/bin/fixture-exe"


def le32(n):
    return struct.pack("<I", n)


def field(data):
    return le32(len(data)) + data


def d_ng(algo, digest_hex):
    return algo.encode() + b":\0" + bytes.fromhex(digest_hex)


def line(pcr, template, fields_data, shown):
    th = hashlib.sha1(b"".join(field(f) for f in fields_data)).hexdigest()
    return "%2d %s %s %s\n" % (pcr, th, template, " ".join(shown))


def ima_ng(pcr, algo, digest_hex, name):
    return line(pcr, "ima-ng", [d_ng(algo, digest_hex), name.encode() + b"\0"],
                ["%s:%s" % (algo, digest_hex), name])


def ima_sig(pcr, algo, digest_hex, name, sig_hex=""):
    return line(pcr, "ima-sig",
                [d_ng(algo, digest_hex), name.encode() + b"\0", bytes.fromhex(sig_hex)],
                ["%s:%s" % (algo, digest_hex), name, sig_hex])


def ima_ngv2(pcr, typ, algo, digest_hex, name):
    d = ("%s:%s:" % (typ, algo)).encode() + b"\0" + bytes.fromhex(digest_hex)
    return line(pcr, "ima-ngv2", [d, name.encode() + b"\0"],
                ["%s:%s:%s" % (typ, algo, digest_hex), name])


def ima_buf(pcr, algo, buf, name):
    digest_hex = hashlib.new(algo, buf).hexdigest()
    return line(pcr, "ima-buf", [d_ng(algo, digest_hex), name.encode() + b"\0", buf],
                ["%s:%s" % (algo, digest_hex), name, buf.hex()])


def ima_orig(pcr, sha1_hex, name):
    data = bytes.fromhex(sha1_hex) + (name.encode() + b"\0").ljust(256, b"\0")
    return "%2d %s ima %s %s\n" % (pcr, hashlib.sha1(data).hexdigest(), sha1_hex, name)


def violation(algo, name, digest_len=20):
    return "10 %s ima-ng %s:%s %s\n" % ("0" * 40, algo, "00" * digest_len, name)


def h(algo, text):
    return hashlib.new(algo, text.encode()).hexdigest()


# Entries a typical distribution boot produces (digests are stand-ins; hashes are real).
COMMON_NG = [
    ima_ng(10, "sha256", h("sha256", "boot"), "boot_aggregate"),
    ima_ng(10, "sha256", h("sha256", "systemd"), "/usr/lib/systemd/systemd"),
    ima_ng(10, "sha256", h("sha256", "ld"), "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"),
    ima_ng(10, "sha256", h("sha256", "libc"), "/usr/lib/x86_64-linux-gnu/libc.so.6"),
    violation("sha256", "/var/log/journal/system.journal"),
    ima_ng(10, "sha256", h("sha256", "sshd"), "/usr/sbin/sshd"),
]
EXE_NG = ima_ng(10, "sha256", EXE_SHA256, EXE_PATH)
SIG = ("030204c1e5fb4e0100" + h("sha256", "signature") + h("sha256", "signature2"))


def write(name, text):
    with open(name, "w") as f:
        f.write(text)


write("ima_ng.txt", "".join(COMMON_NG) + EXE_NG + ima_ng(10, "sha256", h("sha256", "bash"), "/usr/bin/bash"))
write("ima_ng_nomatch.txt", "".join(COMMON_NG) + ima_ng(10, "sha256", h("sha256", "other"), EXE_PATH))
write("ima_sig.txt",
      ima_sig(10, "sha256", h("sha256", "boot"), "boot_aggregate") +
      ima_sig(10, "sha256", h("sha256", "systemd"), "/usr/lib/systemd/systemd", SIG) +
      ima_sig(10, "sha256", EXE_SHA256, EXE_PATH, SIG) +
      ima_sig(10, "sha256", h("sha256", "bash"), "/usr/bin/bash"))
write("ima_sha1.txt",
      ima_orig(10, h("sha1", "boot"), "boot_aggregate") +
      ima_orig(10, h("sha1", "systemd"), "/usr/lib/systemd/systemd") +
      ima_orig(10, EXE_SHA1, "fixture-exe") +
      ima_orig(10, h("sha1", "bash"), "bash"))
write("ima_mixed.txt",
      ima_ng(10, "sha256", h("sha256", "boot"), "boot_aggregate") +
      ima_buf(10, "sha256", b"root=/dev/vda1 ro ima_policy=tcb", "kexec-cmdline") +
      ima_ngv2(10, "verity", "sha256", EXE_SHA256, "/verity/fixture-exe") +
      ima_ng(11, "sha256", EXE_SHA256, "/opt/app/fixture-exe") +
      ima_ngv2(10, "ima", "sha256", EXE_SHA256, EXE_PATH) +
      violation("sha256", "/etc/shadow", 32) +
      ima_ng(10, "sha512", h("sha512", "big"), "/usr/bin/big"))
# The fixture exe's entry is a partial last line (a copy cut mid-write): not yet usable.
write("ima_truncated.txt", "".join(COMMON_NG) + EXE_NG[:70])
# A garbage line before the fixture exe's entry: entries after it must not count.
write("ima_malformed.txt",
      COMMON_NG[0] + COMMON_NG[1] + "10 not-a-hash ima-ng sha256:zz /garbage\n" + EXE_NG)
# A name containing a newline followed by a forged line: the real line around it fails its
# template hash, so the forged entry (valid on its own) must not count.
forged_tail = EXE_NG.rstrip("\n")
real_name = "/tmp/evil\n" + forged_tail
write("ima_forged.txt",
      COMMON_NG[0] +
      line(10, "ima-ng", [d_ng("sha256", h("sha256", "evil")), real_name.encode() + b"\0"],
           ["sha256:" + h("sha256", "evil"), real_name]))
# A wrong template hash on the fixture exe's own line.
bad = EXE_NG.replace(EXE_NG.split(" ")[1], "1" + EXE_NG.split(" ")[1][1:])
write("ima_bad_template_hash.txt", COMMON_NG[0] + bad)
print("sha256", EXE_SHA256, "sha1", EXE_SHA1)
