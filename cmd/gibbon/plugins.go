package main

// The standard plugins register themselves with package stage at init; a
// plugin runs only when the configuration's plugins.load names it.
import _ "gibbon/plugins/all"
