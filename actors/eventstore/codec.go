package eventstore

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"
)

const recordVersion = 1

// key is an id as a bbolt key: big-endian, so keys sort as ids do.
func key(id uint64) []byte { return binary.BigEndian.AppendUint64(make([]byte, 0, 8), id) }

func keyID(k []byte) uint64 { return binary.BigEndian.Uint64(k) }

// encode appends the record of e (without its id, which is the key) to buf.
func encode(buf []byte, e *Event) ([]byte, error) {
	buf = append(buf, recordVersion)
	buf = binary.BigEndian.AppendUint64(buf, uint64(e.Timestamp.UnixNano()))
	buf = binary.AppendUvarint(buf, e.Run)
	buf = binary.AppendUvarint(buf, uint64(len(e.Event)))
	buf = append(buf, e.Event...)
	buf = binary.AppendUvarint(buf, uint64(len(e.ServerID)))
	buf = append(buf, e.ServerID...)
	if len(e.Data) > 0 {
		data, err := json.Marshal(e.Data)
		if err != nil {
			return nil, fmt.Errorf("encoding data of %s: %w", e.Event, err)
		}
		buf = append(buf, data...)
	}
	return buf, nil
}

// header is the fixed part of a record: what filters read.
type header struct {
	ts       int64
	run      uint64
	typ      []byte // aliases the record
	serverID []byte // aliases the record
	data     []byte // aliases the record; empty for none
}

func decodeHeader(v []byte) (h header, err error) {
	if len(v) < 9 || v[0] != recordVersion {
		return h, ErrCorrupt
	}
	h.ts = int64(binary.BigEndian.Uint64(v[1:9]))
	v = v[9:]
	var n int
	if h.run, n = binary.Uvarint(v); n <= 0 {
		return h, ErrCorrupt
	}
	v = v[n:]
	if h.typ, v, err = lengthPrefixed(v); err != nil {
		return h, err
	}
	if h.serverID, v, err = lengthPrefixed(v); err != nil {
		return h, err
	}
	h.data = v
	return h, nil
}

func lengthPrefixed(v []byte) (field, rest []byte, err error) {
	l, n := binary.Uvarint(v)
	if n <= 0 || l > uint64(len(v)-n) {
		return nil, nil, ErrCorrupt
	}
	return v[n : n+int(l)], v[n+int(l):], nil
}

// event builds the Event of a decoded header; the strings and data are
// copied out of the record, which bbolt owns.
func (h header) event(id uint64) (Event, error) {
	e := Event{ID: id, Run: h.run, Timestamp: time.Unix(0, h.ts).UTC(), Event: string(h.typ), ServerID: string(h.serverID)}
	if len(h.data) > 0 {
		if err := json.Unmarshal(h.data, &e.Data); err != nil {
			return e, fmt.Errorf("%w: id %d: %v", ErrCorrupt, id, err)
		}
	}
	return e, nil
}
