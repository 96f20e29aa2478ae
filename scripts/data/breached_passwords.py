#!/usr/bin/env python3
"""Regenerates crates/core/src/auth/breached-passwords.txt (SECURITY.md password rules, L8).

Source: the npm package @zxcvbn-ts/language-common 4.1.3, file src/passwords.json
(MIT licence, (c) 2012-2016 Dan Wheeler and Dropbox, Inc., (c) 2021 zxcvbn-ts):
the 49,233 most common passwords of public breach corpora, ranked by frequency.

    npm pack @zxcvbn-ts/language-common@4.1.3 && tar xzf zxcvbn-ts-language-common-4.1.3.tgz
    python3 scripts/data/breached_passwords.py package/src/passwords.json > crates/core/src/auth/breached-passwords.txt

Entries are folded the way the Rust side folds input (NFKC, then case folding),
deduplicated, sorted by UTF-8 bytes (so Rust can binary-search them) and those
shorter than 4 characters dropped (no password or base word that short is
looked up).
"""
import json
import sys
import unicodedata

words = json.load(open(sys.argv[1], encoding="utf-8"))
folded = {unicodedata.normalize("NFKC", w).casefold() for w in words}
kept = sorted((w for w in folded if len(w) >= 4 and "\n" not in w and w.strip() == w),
              key=lambda w: w.encode("utf-8"))
sys.stdout.write("".join(w + "\n" for w in kept))
