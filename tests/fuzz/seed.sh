#!/bin/sh
# Build a seed corpus for parser_fuzz from the Quest files under a directory
# (for instance a checkout of the reference implementation's test/ and lib/):
#
#   tests/fuzz/seed.sh SRC_DIR [CORPUS_DIR]      (default CORPUS_DIR: ./parser-corpus)
#
# Files are copied under the name of their content hash, so running it again
# or over overlapping trees adds no duplicates.  Nothing here is committed.
set -eu

if [ $# -lt 1 ] || [ ! -d "$1" ]; then
    echo "usage: $0 SRC_DIR [CORPUS_DIR]" >&2
    exit 2
fi
src=$1
corpus=${2:-parser-corpus}
mkdir -p "$corpus"

find "$src" -type f -name '*.q' | while IFS= read -r f; do
    sum=$(sha1sum "$f" | cut -d' ' -f1)
    cp "$f" "$corpus/$sum"
done
echo "$(ls "$corpus" | wc -l) seeds in $corpus"
