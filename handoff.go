package childproc

import (
	"errors"
	"io"
	"os"
	"strconv"
)

// readOrders reads the orders the parent sent on a claimed handoff, to
// EOF, refusing more than max bytes.
func readOrders(sock *os.File, max int) (string, error) {
	data, err := io.ReadAll(io.LimitReader(sock, int64(max)+1))
	if err != nil {
		return "", err
	}
	if len(data) > max {
		return "", errors.New("orders longer than " + strconv.Itoa(max) + " bytes")
	}
	return string(data), nil
}
