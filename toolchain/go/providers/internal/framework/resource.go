package framework

import (
	"context"
	"errors"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// PropertyMap is the property bag every handler works with. Secret values
// stay wrapped (resource.MakeSecret) and values unknown during preview stay
// computed (resource.MakeComputed); nulls are dropped on the way in.
type PropertyMap = resource.PropertyMap

// Resource handles one resource type token. Embed Base to get the defaults
// and override only what the type needs.
type Resource interface {
	// Check validates new inputs and returns the inputs to store (defaults
	// applied). Failures are reported per property; a non-nil error aborts.
	Check(ctx context.Context, req CheckRequest) (PropertyMap, []CheckFailure, error)
	// Diff compares the old state/inputs with the new checked inputs.
	Diff(ctx context.Context, req DiffRequest) (DiffResult, error)
	// Create makes the resource. When req.Preview is true nothing may be
	// changed: return the outputs known so far, with Unknown() for the rest.
	Create(ctx context.Context, req CreateRequest) (id string, outputs PropertyMap, err error)
	// Read refreshes the state. Returning ReadResult{ID: ""} means the
	// resource is gone.
	Read(ctx context.Context, req ReadRequest) (ReadResult, error)
	// Update changes the resource in place (only called when Diff reported
	// changes and no replacement). req.Preview as for Create.
	Update(ctx context.Context, req UpdateRequest) (outputs PropertyMap, err error)
	// Delete removes the resource.
	Delete(ctx context.Context, req DeleteRequest) error
}

// Common is embedded in every request.
type Common struct {
	URN    string
	Name   string      // the resource's logical name
	Type   string      // the type token
	Config PropertyMap // the provider's configuration
	Host   *Host       // logs to the engine; never nil
	// Preview is true during preview (Create/Update only): change nothing,
	// return Unknown() for outputs not known yet.
	Preview bool
}

// CheckRequest is given to Resource.Check.
type CheckRequest struct {
	Common
	Olds       PropertyMap // the previous checked inputs (empty on create)
	News       PropertyMap // the inputs from the program
	RandomSeed []byte
}

// CheckFailure reports an invalid input property.
type CheckFailure struct {
	Property string
	Reason   string
}

// DiffRequest is given to Resource.Diff.
type DiffRequest struct {
	Common
	ID            string
	OldState      PropertyMap // the old outputs
	OldInputs     PropertyMap // the old checked inputs (may be empty for very old states)
	News          PropertyMap // the new checked inputs
	IgnoreChanges []string
}

// DiffKind is how a single property changed.
type DiffKind int

const (
	Add DiffKind = iota
	AddReplace
	Delete
	DeleteReplace
	Update
	UpdateReplace
)

// DiffResult is what Diff returns. Changed=false means nothing to do.
// Replaces lists top-level properties that force replacement; Detailed
// (optional) gives per-property kinds shown by the CLI.
type DiffResult struct {
	Changed             bool
	Replaces            []string
	Stables             []string
	DeleteBeforeReplace bool
	Detailed            map[string]DiffKind
}

// CreateRequest is given to Resource.Create.
type CreateRequest struct {
	Common
	Inputs  PropertyMap
	Timeout float64 // seconds, 0 = none set
}

// ReadRequest is given to Resource.Read (refresh and import).
type ReadRequest struct {
	Common
	ID     string
	State  PropertyMap
	Inputs PropertyMap // empty on import
}

// ReadResult is what Read returns.
type ReadResult struct {
	ID      string
	Outputs PropertyMap
	Inputs  PropertyMap
}

// UpdateRequest is given to Resource.Update.
type UpdateRequest struct {
	Common
	ID            string
	OldState      PropertyMap
	OldInputs     PropertyMap
	News          PropertyMap
	Timeout       float64
	IgnoreChanges []string
}

// DeleteRequest is given to Resource.Delete.
type DeleteRequest struct {
	Common
	ID        string
	State     PropertyMap
	OldInputs PropertyMap
	Timeout   float64
}

// PartialError reports that Create or Update got part way: the resource
// exists with the given state but is not healthy. The engine records the
// state and reports Reasons.
type PartialError struct {
	ID      string
	Outputs PropertyMap
	Reasons []string
}

func (e *PartialError) Error() string {
	if len(e.Reasons) == 0 {
		return "resource partially created"
	}
	return e.Reasons[0]
}

// Function is a provider function (invoke), e.g. "docker:index/getNetwork:getNetwork".
type Function func(ctx context.Context, req InvokeRequest) (PropertyMap, error)

// InvokeRequest is given to a Function.
type InvokeRequest struct {
	Token   string
	Args    PropertyMap
	Config  PropertyMap
	Host    *Host
	Preview bool // true during preview
}

// Base gives the default behaviour of every Resource method. Embed it.
//
//   - Check returns the new inputs unchanged.
//   - Diff replaces on any changed input (DiffAll with every key replacing).
//   - Create fails (every type must implement it).
//   - Read returns the state and inputs unchanged.
//   - Update fails (reached only if Diff reports an in-place change).
//   - Delete does nothing.
type Base struct{}

func (Base) Check(_ context.Context, req CheckRequest) (PropertyMap, []CheckFailure, error) {
	return req.News, nil, nil
}

func (Base) Diff(_ context.Context, req DiffRequest) (DiffResult, error) {
	return DiffInputs(req.OldInputsOrState(), req.News, func(string) bool { return true }), nil
}

func (Base) Create(context.Context, CreateRequest) (string, PropertyMap, error) {
	return "", nil, errors.New("create is not implemented for this resource type")
}

func (Base) Read(_ context.Context, req ReadRequest) (ReadResult, error) {
	return ReadResult{ID: req.ID, Outputs: req.State, Inputs: req.Inputs}, nil
}

func (Base) Update(context.Context, UpdateRequest) (PropertyMap, error) {
	return nil, errors.New("update is not implemented for this resource type")
}

func (Base) Delete(context.Context, DeleteRequest) error { return nil }

// OldInputsOrState returns the old inputs, or the old state when the engine
// sent no inputs (states written by old engines).
func (r DiffRequest) OldInputsOrState() PropertyMap {
	if len(r.OldInputs) > 0 {
		return r.OldInputs
	}
	return r.OldState
}
