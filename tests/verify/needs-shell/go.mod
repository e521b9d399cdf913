module example.com/needsshell

go 1.22
