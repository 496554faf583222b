package gateway

import "strings"

// URIScheme is the scheme of every resource URI metamcp lists.
const URIScheme = "metamcp"

const uriPrefix = URIScheme + "://"

// ExposeURI returns the URI under which metamcp lists a child's resource:
//
//	metamcp://<server>.<server id>/<the child's URI, untouched>
//
// server is the server's name (else its template's), sanitized and in lower
// case: it is there for people to read, and routing ignores it. serverID is
// a metamcp server_id (A-Z a-z 0-9 _ -), which makes the URI unambiguous
// and stable across restarts.
func ExposeURI(serverID, server, uri string) string {
	return uriPrefix + strings.ToLower(Sanitize(server)) + "." + serverID + "/" + uri
}

// ResolveURI undoes ExposeURI: the server_id and the child's URI. The
// scheme may come in any case (RFC 3986 scheme names are case-insensitive),
// and the server's name is not checked.
func ResolveURI(exposed string) (serverID, uri string, ok bool) {
	if len(exposed) < len(uriPrefix) || !strings.EqualFold(exposed[:len(uriPrefix)], uriPrefix) {
		return "", "", false
	}
	host, uri, found := strings.Cut(exposed[len(uriPrefix):], "/")
	dot := strings.LastIndexByte(host, '.')
	if !found || dot < 1 || !validID(host[dot+1:]) {
		return "", "", false
	}
	return host[dot+1:], uri, true
}

// ExposeURITemplate returns the uriTemplate under which metamcp lists a
// child's resource template. It is ExposeURI: the prefix is a literal, so
// expanding the exposed template gives the exposed expansion of the
// child's, and ResolveURI routes it back.
func ExposeURITemplate(serverID, server, uriTemplate string) string {
	return ExposeURI(serverID, server, uriTemplate)
}

// ResolveURITemplate undoes ExposeURITemplate (completion/complete names
// a resource template by its uriTemplate).
func ResolveURITemplate(exposed string) (serverID, uriTemplate string, ok bool) {
	return ResolveURI(exposed)
}

func validID(id string) bool {
	if id == "" {
		return false
	}
	for i := 0; i < len(id); i++ {
		if !nameRune(rune(id[i])) {
			return false
		}
	}
	return true
}
