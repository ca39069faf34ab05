package stage

import "strconv"

// Stage is one of Monkey's request stages. Its value is Monkey's number.
// Stages follow each other in a fixed order per connection:
//
//	StageAccept → (StageRequest → StageHandle? → StageDone)* → StageClose
//
// StageHandle is skipped when a filter answers at StageRequest or when the
// core serves the request itself (static files); StageDone follows every
// request, answered or refused.
type Stage uint8

// The stages.
const (
	StageAccept  Stage = 10 // connection accepted, before any byte is read
	StageRequest Stage = 20 // request head parsed, before routing
	StageHandle  Stage = 30 // content handler
	StageDone    Stage = 40 // response completed (also errors and refusals)
	StageClose   Stage = 50 // connection closed
)

// Stages lists the stages in order.
var Stages = [...]Stage{StageAccept, StageRequest, StageHandle, StageDone, StageClose}

// String returns the lower-case name of the stage, e.g. "accept".
func (s Stage) String() string {
	switch s {
	case StageAccept:
		return "accept"
	case StageRequest:
		return "request"
	case StageHandle:
		return "handle"
	case StageDone:
		return "done"
	case StageClose:
		return "close"
	case 0:
		return "none"
	}
	return "Stage(" + strconv.Itoa(int(s)) + ")"
}

// Verdict is a hook's answer. The zero value is Continue.
//
// At StageAccept, Continue lets the connection in and anything else closes
// it before a byte is read. At StageRequest, Continue passes the request to
// the next filter (then to routing); Handled means the filter answered
// through the ResponseWriter and the chain stops; Close closes the
// connection at once, without a response (what was written is dropped).
type Verdict uint8

// The verdicts.
const (
	Continue Verdict = iota // go on with the next hook
	Handled                 // the hook answered; stop the chain
	Close                   // close the connection now
)

// String returns the lower-case name of the verdict, e.g. "handled".
func (v Verdict) String() string {
	switch v {
	case Continue:
		return "continue"
	case Handled:
		return "handled"
	case Close:
		return "close"
	}
	return "Verdict(" + strconv.Itoa(int(v)) + ")"
}
