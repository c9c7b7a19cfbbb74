// Package lmo reads gettext .po files and writes and reads LuCI's .lmo
// catalogs (the format of modules/luci-base/src/po2lmo.c and lib/lmo.c).
package lmo

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// SFH is Paul Hsieh's SuperFastHash as LuCI's lmo.c implements it:
// sfh_hash(data, len, init=len), little-endian 16-bit reads and, in the
// tail, a *signed* char (bytes >= 0x80 sign-extend). LuCI's cbi.js computes
// the same value in the browser to look up window.TR.
func SFH(data []byte) uint32 {
	if len(data) == 0 {
		return 0
	}
	get16 := func(b []byte) uint32 { return uint32(b[0]) | uint32(b[1])<<8 }
	hash := uint32(len(data))
	rem := len(data) & 3
	b := data
	for n := len(data) >> 2; n > 0; n-- {
		hash += get16(b)
		tmp := (get16(b[2:]) << 11) ^ hash
		hash = (hash << 16) ^ tmp
		b = b[4:]
		hash += hash >> 11
	}
	switch rem {
	case 3:
		hash += get16(b)
		hash ^= hash << 16
		hash ^= uint32(int32(int8(b[2])) << 18)
		hash += hash >> 11
	case 2:
		hash += get16(b)
		hash ^= hash << 11
		hash += hash >> 17
	case 1:
		hash += uint32(int32(int8(b[0])))
		hash ^= hash << 10
		hash += hash >> 1
	}
	hash ^= hash << 3
	hash += hash >> 5
	hash ^= hash << 4
	hash += hash >> 17
	hash ^= hash << 25
	hash += hash >> 6
	return hash
}

// Entry is one translation: the key LuCI hashes (msgid, with "ctx\x01"
// before it and "\x02N" after it for plural form N) and its text.
type Entry struct {
	Key   string
	Value string
	Forms uint32 // number of msgstr[N] of a plural message, else 1
}

// indexEntry is lmo.h's struct lmo_entry, stored big-endian.
type indexEntry struct{ keyID, valID, offset, length uint32 }

// pluralKey is the index slot po2lmo gives the Plural-Forms header.
const pluralKey = 0

// WriteLMO lays out an .lmo archive the way LuCI's po2lmo does: the values,
// each padded to 4 bytes; the index of (sfh(key), plural count, offset,
// length) sorted by hash; then the index offset as the last word. Entries
// whose text hashes like their key (untranslated) are left out, as po2lmo
// does. plural is the Plural-Forms expression ("" for none). An archive
// with nothing in it is an error: po2lmo deletes such a file.
func WriteLMO(entries []Entry, plural string) ([]byte, error) {
	var data []byte
	var index []indexEntry
	add := func(key uint32, valID uint32, value string) {
		index = append(index, indexEntry{key, valID, uint32(len(data)), uint32(len(value))})
		data = append(data, value...)
		for len(data)%4 != 0 {
			data = append(data, 0)
		}
	}
	if plural != "" {
		add(pluralKey, 0, plural)
	}
	for _, e := range entries {
		k, v := SFH([]byte(e.Key)), SFH([]byte(e.Value))
		if k == v {
			continue
		}
		forms := e.Forms
		if forms == 0 {
			forms = 1
		}
		add(k, forms, e.Value)
	}
	if len(data) == 0 {
		return nil, errors.New("nothing translated: LuCI would not load an empty catalog")
	}
	sort.SliceStable(index, func(i, j int) bool { return index[i].keyID < index[j].keyID })
	if err := checkCollisions(index); err != nil {
		return nil, err
	}
	out := data
	for _, e := range index {
		out = binary.BigEndian.AppendUint32(out, e.keyID)
		out = binary.BigEndian.AppendUint32(out, e.valID)
		out = binary.BigEndian.AppendUint32(out, e.offset)
		out = binary.BigEndian.AppendUint32(out, e.length)
	}
	return binary.BigEndian.AppendUint32(out, uint32(len(data))), nil
}

// checkCollisions refuses two keys with one hash: LuCI's binary search
// would find either, so one string would show the other's translation.
func checkCollisions(index []indexEntry) error {
	for i := 1; i < len(index); i++ {
		if index[i].keyID == index[i-1].keyID {
			return fmt.Errorf("two messages hash to %08x: rename one", index[i].keyID)
		}
	}
	return nil
}

// ReadLMO decodes an archive into hash → text, as LuCI's lmo_open and
// lmo_iterate see it (the form of window.TR: 8 lowercase hex digits).
func ReadLMO(b []byte) (map[string]string, error) {
	if len(b) < 4 || len(b)%4 != 0 {
		return nil, fmt.Errorf("lmo: size %d is not a multiple of 4", len(b))
	}
	idx := binary.BigEndian.Uint32(b[len(b)-4:])
	if int(idx) > len(b)-4 || (len(b)-4-int(idx))%16 != 0 {
		return nil, fmt.Errorf("lmo: bad index offset %d", idx)
	}
	out := map[string]string{}
	for p := int(idx); p < len(b)-4; p += 16 {
		key := binary.BigEndian.Uint32(b[p:])
		off := binary.BigEndian.Uint32(b[p+8:])
		n := binary.BigEndian.Uint32(b[p+12:])
		if uint64(off)+uint64(n) > uint64(idx) {
			return nil, fmt.Errorf("lmo: entry %08x points past the data", key)
		}
		out[fmt.Sprintf("%08x", key)] = string(b[off : off+n])
	}
	return out, nil
}

// Lookup is what LuCI's _() does with a catalog: trim, collapse blanks,
// prefix the context, hash, look up; the msgid itself when absent.
func Lookup(tr map[string]string, msgid, ctx string) string {
	k := trimws(msgid)
	if ctx != "" {
		k = trimws(ctx) + "\x01" + k
	}
	if v, ok := tr[fmt.Sprintf("%08x", SFH([]byte(k)))]; ok {
		return v
	}
	return msgid
}

func trimws(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == '\t' || r == '\n' }), " ")
}
