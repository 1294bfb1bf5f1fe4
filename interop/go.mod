module github.com/serf-clone/serf/interop

go 1.26.8
