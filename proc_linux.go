package childproc

const isLinux = true
