// Fault: exits with status 3 before serving (after a line on stderr).
process.stderr.write('exit_at_start: leaving before serve\n');
process.exit(3);
