package cliconfig_test

import (
	"fmt"
	"os"

	"github.com/spf13/pflag"

	"github.com/genquorum/genquorum/cliconfig"
)

// A flag given on the command line wins over the environment, which wins over the default.
func ExampleApply() {
	fs := pflag.NewFlagSet("node", pflag.ContinueOnError)
	level := fs.String("log-level", "info", "")
	addr := fs.String("rpc-laddr", "127.0.0.1:26657", "")
	home := fs.String("home", "", "")
	if err := fs.Parse([]string{"--home", "/srv/node"}); err != nil {
		panic(err)
	}
	os.Setenv(cliconfig.EnvName("GENQUORUM", "log-level"), "debug")
	os.Setenv(cliconfig.EnvName("GENQUORUM", "home"), "/ignored")
	defer os.Unsetenv("GENQUORUM_LOG_LEVEL")
	defer os.Unsetenv("GENQUORUM_HOME")
	if err := cliconfig.Apply(fs, "", "GENQUORUM"); err != nil {
		panic(err)
	}
	fmt.Println(*level, *addr, *home)
	// Output: debug 127.0.0.1:26657 /srv/node
}
