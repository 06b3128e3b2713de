package envlist

import "strings"

// Key returns the key of a "KEY=value" entry, in upper case (Windows
// keys ignore case); an entry such as "=C:=C:\x" keeps its leading '='.
func Key(kv string) string {
	i := strings.IndexByte(kv[min(1, len(kv)):], '=')
	if i < 0 {
		return strings.ToUpper(kv)
	}
	return strings.ToUpper(kv[:i+min(1, len(kv))])
}
