//go:build unix && !linux

package childproc

const isLinux = false
