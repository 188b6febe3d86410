// etcd for the test cluster: etcd's own server main (go.etcd.io/etcd/server/v3/etcdmain), built from its Go module at
// the version pinned in go.mod, so the cluster needs no etcd package from the distribution.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
