module github.com/childproc/childproc

go 1.26.0

require golang.org/x/sys v0.49.0

require (
	github.com/fatih/color v1.19.0
	github.com/mattn/go-isatty v0.0.20
	go.uber.org/goleak v1.3.0
)

require github.com/mattn/go-colorable v0.1.14 // indirect
