package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// Version is the only JSON-RPC version there is.
const Version = "2.0"

// Standard JSON-RPC error codes.
const (
	CodeParseError     = -32700
	CodeInvalidRequest = -32600
	CodeMethodNotFound = -32601
	CodeInvalidParams  = -32602
	CodeInternal       = -32603
)

// Msg is one JSON-RPC message with its variable parts raw. A request has
// Method and ID, a notification Method alone, a response ID and one of
// Result or Error.
type Msg struct {
	ID     json.RawMessage `json:"id,omitempty"`
	Method string          `json:"method,omitempty"`
	Params json.RawMessage `json:"params,omitempty"`
	Result json.RawMessage `json:"result,omitempty"`
	Error  *Error          `json:"error,omitempty"`
}

// Error is a JSON-RPC error object.
type Error struct {
	Code    int             `json:"code"`
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data,omitempty"`
}

func (e *Error) Error() string { return fmt.Sprintf("JSON-RPC error %d: %s", e.Code, e.Message) }

// ErrNotMessage is returned by Decode for a line that is JSON but not a
// JSON-RPC message.
var ErrNotMessage = errors.New("not a JSON-RPC message")

// IsRequest says whether m expects an answer.
func (m *Msg) IsRequest() bool { return m.Method != "" && hasID(m.ID) }

// IsNotification says whether m is a request without an id.
func (m *Msg) IsNotification() bool { return m.Method != "" && !hasID(m.ID) }

// IsResponse says whether m answers a request.
func (m *Msg) IsResponse() bool { return m.Method == "" && hasID(m.ID) }

func hasID(id json.RawMessage) bool { return len(id) > 0 && string(id) != "null" }

// Decode reads one message. The line must be a single JSON object.
//
// The common shape — an object with the members id, method, params,
// result and error, each at most once, method a string — is read in one
// pass over the envelope after a validity check, with its parts slices of
// one copy of the line; anything else goes through encoding/json, which
// gives the same Msg (or error) for every input.
func Decode(line []byte) (Msg, error) {
	if !json.Valid(line) {
		return decodeStd(line)
	}
	buf := bytes.Clone(line)
	var m Msg
	var seen uint8
	err := Fields(buf, func(key, v []byte) error {
		var bit uint8
		switch string(key) {
		case "jsonrpc":
			return nil
		case "id":
			bit, m.ID = 1, v
		case "method":
			bit = 2
			if string(v) == "null" {
				break
			}
			s, ok := unquote(v)
			if !ok {
				return errSlow
			}
			m.Method = s
		case "params":
			bit, m.Params = 4, v
		case "result":
			bit, m.Result = 8, v
		case "error":
			bit = 16
			if string(v) == "null" {
				m.Error = nil
				break
			}
			m.Error = new(Error)
			if err := json.Unmarshal(v, m.Error); err != nil {
				return errSlow
			}
		default:
			if foldsToMember(key) { // encoding/json matches member names case-insensitively
				return errSlow
			}
			return nil
		}
		if seen&bit != 0 { // a member twice: encoding/json's rules
			return errSlow
		}
		seen |= bit
		return nil
	})
	if err != nil {
		return decodeStd(line)
	}
	return checkMsg(m)
}

// errSlow sends Decode to encoding/json.
var errSlow = errors.New("not the common shape")

func foldsToMember(key []byte) bool {
	for _, k := range [...]string{"jsonrpc", "id", "method", "params", "result", "error"} {
		if len(key) == len(k) && bytes.EqualFold(key, []byte(k)) {
			return true
		}
	}
	return false
}

// decodeStd is Decode by encoding/json.
func decodeStd(line []byte) (Msg, error) {
	var m Msg
	if err := json.Unmarshal(line, &m); err != nil {
		return Msg{}, err
	}
	return checkMsg(m)
}

func checkMsg(m Msg) (Msg, error) {
	if m.Method == "" && !hasID(m.ID) {
		return Msg{}, ErrNotMessage
	}
	if m.Method == "" && m.Result == nil && m.Error == nil {
		return Msg{}, fmt.Errorf("%w: a response without result or error", ErrNotMessage)
	}
	return m, nil
}

// IntID reads a numeric id (the form a Peer uses for its own requests).
func IntID(id json.RawMessage) (int64, bool) {
	n, err := strconv.ParseInt(string(bytes.TrimSpace(id)), 10, 64)
	return n, err == nil
}

// AppendRequest appends a request with a numeric id.
func AppendRequest(b []byte, id int64, method string, params json.RawMessage) []byte {
	b = append(b, `{"jsonrpc":"2.0","id":`...)
	b = strconv.AppendInt(b, id, 10)
	return appendMethodParams(b, method, params)
}

// AppendNotification appends a notification.
func AppendNotification(b []byte, method string, params json.RawMessage) []byte {
	b = append(b, `{"jsonrpc":"2.0"`...)
	return appendMethodParams(b, method, params)
}

func appendMethodParams(b []byte, method string, params json.RawMessage) []byte {
	b = append(b, `,"method":`...)
	b = AppendString(b, method)
	if len(params) > 0 {
		b = append(b, `,"params":`...)
		b = append(b, params...)
	}
	return append(b, '}')
}

// AppendResult appends a response carrying result (null when empty).
func AppendResult(b []byte, id, result json.RawMessage) []byte {
	b = appendResponseHead(b, id)
	b = append(b, `,"result":`...)
	if len(result) == 0 {
		result = json.RawMessage("{}")
	}
	b = append(b, result...)
	return append(b, '}')
}

// AppendError appends an error response. A nil id is written as null (an
// answer to a message whose id could not be read).
func AppendError(b []byte, id json.RawMessage, e *Error) []byte {
	b = appendResponseHead(b, id)
	b = append(b, `,"error":{"code":`...)
	b = strconv.AppendInt(b, int64(e.Code), 10)
	b = append(b, `,"message":`...)
	b = AppendString(b, e.Message)
	if len(e.Data) > 0 {
		b = append(b, `,"data":`...)
		b = append(b, e.Data...)
	}
	return append(b, "}}"...)
}

func appendResponseHead(b []byte, id json.RawMessage) []byte {
	b = append(b, `{"jsonrpc":"2.0","id":`...)
	if len(id) == 0 {
		id = json.RawMessage("null")
	}
	return append(b, id...)
}

// AppendString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD.
func AppendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			b = appendEscape(b, c)
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

func appendEscape(b []byte, c byte) []byte {
	switch c {
	case '"', '\\':
		return append(b, '\\', c)
	case '\n':
		return append(b, '\\', 'n')
	case '\r':
		return append(b, '\\', 'r')
	case '\t':
		return append(b, '\\', 't')
	}
	const hex = "0123456789abcdef"
	return append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
}

// AppendMessage appends m as it would be sent, its raw parts as they are.
func AppendMessage(b []byte, m *Msg) []byte {
	b = append(b, `{"jsonrpc":"2.0"`...)
	if hasID(m.ID) {
		b = append(append(b, `,"id":`...), m.ID...)
	}
	if m.Method != "" {
		b = append(b, `,"method":`...)
		b = AppendString(b, m.Method)
	}
	if len(m.Params) > 0 {
		b = append(append(b, `,"params":`...), m.Params...)
	}
	if len(m.Result) > 0 {
		b = append(append(b, `,"result":`...), m.Result...)
	}
	if m.Error != nil {
		e, _ := json.Marshal(m.Error)
		b = append(append(b, `,"error":`...), e...)
	}
	return append(b, '}')
}
