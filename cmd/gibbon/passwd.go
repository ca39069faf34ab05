package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"gibbon/plugins/auth"
)

// passwd is `gibbon passwd [-c] [-D] [-s] FILE USER [PASS]`: it adds,
// changes or deletes a user of an auth users file. Without PASS the
// password comes from the terminal (asked twice, not echoed) or, when
// standard input is not a terminal, from its first line.
func passwd(args []string, stdin *os.File, stdout, stderr io.Writer) int {
	var opts auth.PasswdOptions
	fs := flag.NewFlagSet("gibbon passwd", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.BoolVar(&opts.Create, "c", false, "")
	fs.BoolVar(&opts.Delete, "D", false, "")
	fs.BoolVar(&opts.SHA1, "s", false, "")
	if err := fs.Parse(args); err != nil || fs.NArg() < 2 || fs.NArg() > 3 || opts.Create && opts.Delete {
		fmt.Fprint(stderr, "usage: gibbon passwd [-c] [-D] [-s] FILE USER [PASS]\n")
		return 2
	}
	file, user, pass := fs.Arg(0), fs.Arg(1), fs.Arg(2)
	if fs.NArg() == 2 && !opts.Delete {
		var err error
		if pass, err = readPassword(stdin, stderr); err != nil {
			printError(stderr, err)
			return 1
		}
	}
	if err := auth.Passwd(file, user, pass, opts); err != nil {
		printError(stderr, err)
		return 1
	}
	verb := "set the password of"
	if opts.Delete {
		verb = "deleted"
	}
	fmt.Fprintf(stdout, "gibbon: %s %s in %s\n", verb, user, file)
	return 0
}

// readPassword asks for the password twice without echo on a terminal,
// or reads one line from a pipe or file.
func readPassword(in *os.File, prompt io.Writer) (string, error) {
	if !isTerminal(in) {
		line, err := bufio.NewReader(in).ReadString('\n')
		if err != nil && !(errors.Is(err, io.EOF) && line != "") {
			return "", fmt.Errorf("reading the password from standard input: %w", err)
		}
		return strings.TrimRight(line, "\r\n"), nil
	}
	fmt.Fprint(prompt, "New password: ")
	p1, err := readHidden(in)
	if err != nil {
		return "", err
	}
	fmt.Fprint(prompt, "\nRe-type new password: ")
	p2, err := readHidden(in)
	fmt.Fprintln(prompt)
	switch {
	case err != nil:
		return "", err
	case p1 != p2:
		return "", errors.New("the passwords do not match")
	case p1 == "":
		return "", errors.New("empty password")
	}
	return p1, nil
}
