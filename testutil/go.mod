module github.com/serf-clone/serf/testutil

go 1.26.8
