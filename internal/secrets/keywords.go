package secrets

// keywordIndex finds the keywords of all content rules in one pass over a
// file, case-insensitively, without lowercasing the file first. Every
// keyword has at least three bytes. At each position a bit set indexed by
// a hash of the (folded) three bytes ending there says whether any
// keyword may start with them; only then are the keywords starting with
// that byte pair compared. Scanning for each keyword separately costs one
// pass per keyword, and keywords made of common letters ("pass", "token")
// make such passes slow; a filter on byte pairs alone passes too many
// positions of ordinary text ("pa", "se", "to").
type keywordIndex struct {
	tri   [1 << 16 / 64]uint64 // bit set of hashed folded trigrams that start a keyword (8 KiB, fits L1)
	first [1 << 16]uint16      // folded byte pair → index into lists; 0 = none
	lists [][]keyword
}

// keyword is one keyword of one rule.
type keyword struct {
	text []byte // lowercase, at least 3 bytes
	rule int    // index into engine.content
}

// foldTable maps each byte to its ASCII lowercase form. It is never
// modified.
var foldTable = func() (t [256]byte) {
	for i := range t {
		c := byte(i)
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		t[i] = c
	}
	return t
}()

// triHash maps a 24-bit trigram to a bit of keywordIndex.tri.
func triHash(t uint32) uint32 { return (t * 0x9E3779B1) >> 16 }

func newKeywordIndex(rules []*ruleState) *keywordIndex {
	ki := &keywordIndex{lists: [][]keyword{nil}}
	for ri, rs := range rules {
		for _, kw := range rs.keywords {
			if len(kw) < 3 {
				continue // checkRules refuses these
			}
			h := triHash(uint32(kw[0])<<16 | uint32(kw[1])<<8 | uint32(kw[2]))
			ki.tri[h/64] |= 1 << (h % 64)
			p := uint16(kw[0])<<8 | uint16(kw[1])
			if ki.first[p] == 0 {
				ki.lists = append(ki.lists, nil)
				ki.first[p] = uint16(len(ki.lists) - 1)
			}
			i := ki.first[p]
			ki.lists[i] = append(ki.lists[i], keyword{text: kw, rule: ri})
		}
	}
	return ki
}

// find appends to occ[r] the offset of every occurrence of a keyword of
// rule r in data, in increasing order.
func (ki *keywordIndex) find(data []byte, occ [][]int) {
	if len(data) < 3 {
		return
	}
	t := uint32(foldTable[data[0]])<<8 | uint32(foldTable[data[1]])
	for i := 2; i < len(data); i++ {
		c := foldTable[data[i]]
		t = (t<<8 | uint32(c)) & 0xffffff
		h := triHash(t)
		if ki.tri[h/64]&(1<<(h%64)) == 0 {
			continue
		}
		at := i - 2
		for _, k := range ki.lists[ki.first[uint16(t>>8)]] {
			// The first two bytes are the pair just matched.
			if k.text[2] == c && hasPrefixFold(data[i+1:], k.text[3:]) {
				occ[k.rule] = append(occ[k.rule], at)
			}
		}
	}
}

// hasPrefixFold reports whether b starts with the lowercase prefix,
// ignoring ASCII case.
func hasPrefixFold(b, prefix []byte) bool {
	if len(b) < len(prefix) {
		return false
	}
	for i, c := range prefix {
		if foldTable[b[i]] != c {
			return false
		}
	}
	return true
}
