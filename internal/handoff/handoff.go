package handoff

import (
	"errors"
	"io"
	"os"
	"strconv"
)

// ReadOrders reads the orders the parent sent on a claimed handoff, to
// EOF, refusing more than limit bytes.
func ReadOrders(sock *os.File, limit int) (string, error) {
	data, err := io.ReadAll(io.LimitReader(sock, int64(limit)+1))
	if err != nil {
		return "", err
	}
	if len(data) > limit {
		return "", errors.New("orders longer than " + strconv.Itoa(limit) + " bytes")
	}
	return string(data), nil
}
