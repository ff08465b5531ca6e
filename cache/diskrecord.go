package cache

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"net/http"
	"time"
)

// A disk record is one cached object as a file of the disk tier: a fixed
// prefix, the entry's metadata, then the body, so that the body can go to a
// socket with sendfile(2) from a known offset.
//
//	prefix (32 bytes, little endian):
//	  magic   [4]byte  "EFD1"
//	  metaLen uint32   bytes of metadata after the prefix
//	  bodyLen uint64   bytes of body after the metadata
//	  gen     uint64   random per write: an Entry read from one version of
//	                   the file never serves the body of another
//	  bodyCRC uint32   CRC-32C of the body
//	  metaCRC uint32   CRC-32C of prefix[0:28] and the metadata
//	metadata: the key, then the Entry's fields (uvarint lengths, varints)
//	body
//
// The file is written under a temporary name and renamed into place, so a
// process killed mid-write leaves a *.tmp file (removed at the next start),
// never a short record under the object's name. The checksums catch what a
// power loss can still do to a file whose data was not yet on the disk: the
// metadata is checked on every read of it, the body once per process
// before the first time it is served (diskItem.verified).

const (
	recordMagic  = "EFD1"
	recordPrefix = 32
	// maxMeta bounds the metadata a record may declare; a stored header
	// is far smaller (the origin's header is bounded well below this).
	maxMeta = 1 << 20
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// record is the decoded metadata of a disk record.
type record struct {
	key     string
	metaLen int
	bodyLen int64
	gen     uint64
	bodyCRC uint32
	entry   Entry // without Body
}

// size is the file's length.
func (r *record) size() int64 { return recordPrefix + int64(r.metaLen) + r.bodyLen }

// bodyOffset is where the body starts in the file.
func (r *record) bodyOffset() int64 { return recordPrefix + int64(r.metaLen) }

// encodeRecord renders the prefix and metadata of e stored under key, for
// a body of bodyLen bytes with checksum bodyCRC.
func encodeRecord(key string, e *Entry, bodyLen int64, bodyCRC uint32, gen uint64) []byte {
	b := make([]byte, recordPrefix, recordPrefix+256+len(key))
	b = appendString(b, key)
	b = binary.AppendUvarint(b, uint64(e.Status))
	b = appendString(b, e.Distribution)
	b = appendString(b, e.Path)
	b = appendString(b, e.Query())
	b = binary.AppendVarint(b, e.StoredNano)
	for _, d := range []time.Duration{e.InitialAge(), e.TTL, e.StaleWhileRevalidate(), e.StaleIfError()} {
		b = binary.AppendVarint(b, int64(d))
	}
	b = binary.AppendVarint(b, e.StaleUntil())
	b = binary.AppendUvarint(b, uint64(2*e.Header.Len()))
	for name, value := range e.Header.All() {
		b = appendString(b, name)
		b = appendString(b, value)
	}
	copy(b[0:4], recordMagic)
	binary.LittleEndian.PutUint32(b[4:], uint32(len(b)-recordPrefix))
	binary.LittleEndian.PutUint64(b[8:], uint64(bodyLen))
	binary.LittleEndian.PutUint64(b[16:], gen)
	binary.LittleEndian.PutUint32(b[24:], bodyCRC)
	crc := crc32.Update(0, castagnoli, b[:28])
	crc = crc32.Update(crc, castagnoli, b[recordPrefix:])
	binary.LittleEndian.PutUint32(b[28:], crc)
	return b
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// errRecord is the error of every malformed record: the file is discarded.
var errRecord = errors.New("malformed disk record")

// recordMetaLen returns the metadata length a prefix declares, to know how
// much more of the file to read; it checks only the magic and the bound.
func recordMetaLen(prefix []byte) (int, error) {
	if len(prefix) < recordPrefix || string(prefix[:4]) != recordMagic {
		return 0, fmt.Errorf("%w: bad magic", errRecord)
	}
	n := binary.LittleEndian.Uint32(prefix[4:])
	if n > maxMeta {
		return 0, fmt.Errorf("%w: metadata of %d bytes", errRecord, n)
	}
	return int(n), nil
}

// decodeRecord decodes the prefix and metadata at the start of b (which
// may hold more: the body). It reads bytes from a file that a crash may
// have cut short or a disk may have damaged, so it trusts nothing: every
// length is checked and the metadata checksum must match.
func decodeRecord(b []byte) (*record, error) {
	metaLen, err := recordMetaLen(b)
	if err != nil {
		return nil, err
	}
	if len(b) < recordPrefix+metaLen {
		return nil, fmt.Errorf("%w: %d bytes, want %d", errRecord, len(b), recordPrefix+metaLen)
	}
	meta := b[recordPrefix : recordPrefix+metaLen]
	crc := crc32.Update(0, castagnoli, b[:28])
	crc = crc32.Update(crc, castagnoli, meta)
	if crc != binary.LittleEndian.Uint32(b[28:]) {
		return nil, fmt.Errorf("%w: metadata checksum", errRecord)
	}
	r := &record{
		metaLen: metaLen,
		bodyLen: int64(binary.LittleEndian.Uint64(b[8:])),
		gen:     binary.LittleEndian.Uint64(b[16:]),
		bodyCRC: binary.LittleEndian.Uint32(b[24:]),
	}
	if r.bodyLen < 0 || r.bodyLen > 1<<50 {
		return nil, fmt.Errorf("%w: body of %d bytes", errRecord, r.bodyLen)
	}
	// One string of the metadata: every field is a substring of it (one
	// allocation, not one per field).
	d := decoder{b: string(meta)}
	r.key = d.string()
	e := &r.entry
	e.Status = int(d.uvarint(999))
	var x Extra
	e.Distribution, e.Path, x.Query = d.string(), d.string(), d.string()
	e.StoredNano = d.varint()
	x.InitialAge = time.Duration(d.varint())
	e.TTL = time.Duration(d.varint())
	x.StaleWhileRevalidate = time.Duration(d.varint())
	x.StaleIfError = time.Duration(d.varint())
	x.StaleUntil = d.varint()
	e.SetExtra(x)
	n := d.uvarint(^uint64(0))
	if n%2 != 0 || n > uint64(len(d.b)) { // (each value takes a byte at least)
		d.err = true
	}
	if !d.err && n > 0 {
		h := make(http.Header, n/2)
		for range n / 2 {
			name, value := d.string(), d.string()
			h[name] = append(h[name], value)
		}
		e.Header = NewHeader(h)
	}
	if d.err || len(d.b) != 0 {
		return nil, fmt.Errorf("%w: metadata fields", errRecord)
	}
	return r, nil
}

// decoder reads the metadata's fields; err sticks at the first problem.
type decoder struct {
	b   string
	err bool
}

func (d *decoder) uvarint(limit uint64) uint64 {
	if d.err {
		return 0
	}
	var v uint64
	for i := 0; i < len(d.b) && i < binary.MaxVarintLen64; i++ {
		c := d.b[i]
		if i == binary.MaxVarintLen64-1 && c > 1 {
			break // overflows 64 bits
		}
		v |= uint64(c&0x7f) << (7 * i)
		if c < 0x80 {
			if v > limit {
				break
			}
			d.b = d.b[i+1:]
			return v
		}
	}
	d.err = true
	return 0
}

func (d *decoder) varint() int64 {
	ux := d.uvarint(^uint64(0))
	x := int64(ux >> 1)
	if ux&1 != 0 {
		x = ^x
	}
	return x
}

func (d *decoder) string() string {
	n := d.uvarint(^uint64(0))
	if d.err || n > uint64(len(d.b)) { // (the length's own bytes are consumed)
		d.err = true
		return ""
	}
	s := d.b[:n]
	d.b = d.b[n:]
	return s
}
