#!/usr/bin/env bash
# Seeds the fuzz corpora (fuzz/corpus/<target>/, not committed) from the repository's
# fixtures and the shared corpus. Needs gzip and python3; the ntfs_volume seed also
# needs root with mkntfs and ntfs-3g (skipped, with a message, without them).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
SHARED="${NETSESSION_CORPUS:-$ROOT/../shared/corpus}"
C="$HERE/corpus"
mkdir -p "$C"/{hive,mft_record,ntfs_volume,partitions,e01,text,collected_mft,event_log,ese,prefetch,deleted_cells,vss,index_block}
WORK=$(mktemp -d)
trap 'umount "$WORK/mnt" 2>/dev/null || true; rm -rf "$WORK"' EXIT

# ese: the smallest real SRUM databases, whole.
for f in srudb_server2022_clean_revb4 srudb_win10_clean_rev6e; do
    gzip -dc "$ROOT/fixtures/ese/$f.dat.gz" >"$C/ese/$f.dat"
done

# prefetch: the committed real and generated Prefetch files, every version.
find "$ROOT/fixtures/prefetch" -name '*.pf' -size -64k | while read -r f; do
    cp "$f" "$C/prefetch/$(echo "$f" | md5sum | cut -c1-8)-$(basename "$f")"
done

# hive: 4-byte little-endian hive length, the hive, then a log (if any).
with_len() { # HIVE [LOG] > seed
    python3 - "$@" <<'PY'
import struct, sys
hive = open(sys.argv[1], "rb").read()
log = open(sys.argv[2], "rb").read() if len(sys.argv) > 2 else b""
sys.stdout.buffer.write(struct.pack("<I", len(hive)) + hive + log)
PY
}
for h in SYSTEM SOFTWARE NTUSER.DAT UsrClass.dat Amcache.hve; do
    [ -f "$ROOT/fixtures/registry/$h" ] && with_len "$ROOT/fixtures/registry/$h" >"$C/hive/$h"
done
with_len "$ROOT/fixtures/registry/dirty/NTUSER.DAT" "$ROOT/fixtures/registry/dirty/NTUSER.DAT.LOG1" \
    >"$C/hive/dirty-NTUSER-with-LOG1"
if [ -d "$SHARED/hives" ]; then
    find "$SHARED/hives" -type f -size -300k | head -40 | while read -r f; do
        with_len "$f" >"$C/hive/corpus-$(basename "$f")-$(echo "$f" | md5sum | cut -c1-6)"
    done
fi

# deleted_cells: 4-byte little-endian root cell offset, then a hive's bins (no base
# block): the hives with deleted keys and values.
for f in "$ROOT"/fixtures/registry/deleted/*; do
    case "$f" in *.md) continue ;; esac
    python3 - "$f" >"$C/deleted_cells/$(basename "$f")" <<'PY'
import sys
hive = open(sys.argv[1], "rb").read()
sys.stdout.buffer.write(hive[0x24:0x28] + hive[4096:])
PY
done

# mft_record: records and the boot sector of the case image's volume; journal bytes.
gzip -dc "$ROOT/fixtures/images/case/case.raw.gz" >"$WORK/case.raw"
python3 - "$WORK/case.raw" "$C/mft_record" <<'PY'
import struct, sys
disk = open(sys.argv[1], "rb").read()
vol = disk[2048 * 512:]
cluster = struct.unpack_from("<H", vol, 11)[0] * vol[13]
mft = struct.unpack_from("<Q", vol, 48)[0] * cluster
open(f"{sys.argv[2]}/boot", "wb").write(vol[:512] + vol[mft:mft + 1024])
for n in range(0, 90):
    rec = vol[mft + n * 1024: mft + (n + 1) * 1024]
    if rec[:4] == b"FILE":
        open(f"{sys.argv[2]}/record-{n}", "wb").write(rec)
PY
[ -f "$SHARED/ntfs/dfir_ntfs/usnjrnlj.bin" ] && head -c 8192 "$SHARED/ntfs/dfir_ntfs/usnjrnlj.bin" \
    | tail -c 4096 >"$C/mft_record/usn-page"

# partitions: the first 64 KiB of the fixture disks and the corpus partition tables.
gzip -dc "$ROOT/fixtures/images/gpt.raw.gz" | head -c 65536 >"$C/partitions/gpt" || true
gzip -dc "$ROOT/fixtures/images/mbr63.raw.gz" | head -c 65536 >"$C/partitions/mbr63" || true
[ -f "$SHARED/ntfs/dfir_ntfs/mbr-512-p1e2.bin.gz" ] && gzip -dc "$SHARED/ntfs/dfir_ntfs/mbr-512-p1e2.bin.gz" \
    | head -c 65536 >"$C/partitions/mbr-extended" || true

# e01: the case image's E01 (one segment).
cp "$ROOT/fixtures/images/case/case.E01" "$C/e01/case.E01"

# text: logs, readme, config, a UTF-16 log from the demo tree.
find "$ROOT/fixtures/demo-mounted" -type f \( -name '*.log' -o -name '*.txt' -o -name '*.cfg' -o -name '*.plist' \) \
    | while read -r f; do cp "$f" "$C/text/$(basename "$f")-$(echo "$f" | md5sum | cut -c1-6)"; done

# ntfs_volume: a 1.1 MB NTFS volume with a small install, a log and a deleted DLL.
if command -v mkntfs >/dev/null && command -v ntfs-3g >/dev/null && [ "$(id -u)" = 0 ]; then
    truncate -s 1100K "$WORK/tiny.ntfs"
    mkntfs -F -Q -q -c 512 "$WORK/tiny.ntfs" >/dev/null 2>&1
    mkdir "$WORK/mnt"
    ntfs-3g -o streams_interface=windows "$WORK/tiny.ntfs" "$WORK/mnt"
    A="$WORK/mnt/Users/Ana/AppData/Local/Akamai"
    mkdir -p "$A/logs" "$WORK/mnt/Windows/System32/config"
    printf 'MZ\x90\x00netsession' >"$A/netsession_win.exe"
    printf '2012-02-14 09:30:05 [INFO] NetSession 1.7.0 started, peer 203.0.113.7\r\n' >"$A/logs/netsession.log"
    printf '[ZoneTransfer]\r\nZoneId=3\r\nHostUrl=http://x.example/NetSessionSetup.exe\r\n' >"$A/netsession_win.exe:Zone.Identifier"
    head -c 3000 /dev/zero | tr '\0' 'D' >"$A/netsession_win_a1b2c3d.dll"
    rm "$A/netsession_win_a1b2c3d.dll"
    # Enough names for the folder's index to leave the record (an INDX block), then the
    # last ones removed: their entries stay in the block's slack.
    for f in admintool.exe uninstall.exe ControlPanel.exe rswinui.exe CplTasks.xml \
        euc_state.json netsession_installer.exe installer_uploader.exe; do
        printf 'x' >"$A/$f"
    done
    rm "$A/uninstall.exe" "$A/rswinui.exe"
    cp "$ROOT/fixtures/registry/SYSTEM" "$WORK/mnt/Windows/System32/config/SYSTEM"
    umount "$WORK/mnt"
    cp "$WORK/tiny.ntfs" "$C/ntfs_volume/tiny.ntfs"
else
    echo "ntfs_volume seed skipped: needs root, mkntfs and ntfs-3g" >&2
fi
# index_block: the INDX blocks of the index_slack fixture's folders (icat, sleuthkit),
# 4096 bytes each, and an $INDEX_ROOT value.
if command -v icat >/dev/null && command -v ifind >/dev/null; then
    gzip -dc "$ROOT/fixtures/images/index_slack/index_slack.ntfs.gz" >"$WORK/slack.ntfs"
    for p in Users/Ana/AppData/Local Users/Ben/AppData/Local; do
        n=$(ifind -n "$p" "$WORK/slack.ntfs")
        icat "$WORK/slack.ntfs" "$n-160" | head -c 4096 >"$C/index_block/indx-$n"
        icat "$WORK/slack.ntfs" "$n-144" >"$C/index_block/root-$n"
    done
else
    echo "index_block seed skipped: needs icat and ifind (sleuthkit)" >&2
fi
# collected_mft: 4-byte little-endian $MFT length, the $MFT, then the $J (KAPE fixture;
# the $J's 1 MiB of leading zeros cut to 4 KiB, the records kept).
mkdir -p "$WORK/kape"
tar -xzf "$ROOT/fixtures/collections/kape_case.tar.gz" -C "$WORK/kape"
python3 - "$WORK/kape/kape" "$C/collected_mft" <<'PY'
import struct, sys
kape, out = sys.argv[1], sys.argv[2]
for name, j in (("C", None), ("D", "D/$Extend/$J")):
    mft = open(f"{kape}/{name}/$MFT", "rb").read()
    journal = open(f"{kape}/{j}", "rb").read()[(1 << 20) - 4096:] if j else b""
    open(f"{out}/kape-{name}", "wb").write(struct.pack("<I", len(mft)) + mft + journal)
PY
# event_log: the real logs of fixtures/evtx/real, cut to the file header and their
# first two chunks (every chunk is checked and parsed on its own).
for f in "$ROOT"/fixtures/evtx/real/*.evtx.gz; do
    gzip -dc "$f" | head -c $((4096 + 2 * 65536)) >"$C/event_log/$(basename "$f" .gz)"
done
# vss: the two-snapshot volume of tests/vss_synthetic.rs (full copy, forwarder,
# overlay, bitmaps), written by that test.
(cd "$ROOT" && VSS_SEED_OUT="$C/vss/synthetic-two-snapshots" \
    cargo test -q --test vss_synthetic every_block_of_both_snapshots >/dev/null)
ls "$C"/* | head -100 >/dev/null
for t in "$C"/*; do echo "$(basename "$t"): $(ls "$t" | wc -l) seed(s)"; done
