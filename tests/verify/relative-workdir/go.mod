module example.com/relative

go 1.22
