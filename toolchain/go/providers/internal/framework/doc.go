// Package framework is the small scaffold under the project's own provider
// plugins (cmd/pulumi-resource-*). A plugin describes itself with a
// Provider and hands it to Main; each resource type only writes
// Check/Diff/Create/Read/Update/Delete. The API below is stable: add to it,
// do not change it.
//
// # Plugin main
//
//	var version = "dev" // set with -ldflags "-X main.version=1.2.3"
//
//	func main() {
//		p := &framework.Provider{
//			Name:    "docker",          // package name, tokens start with "docker:"
//			Version: version,           // reported by GetPluginInfo
//			Resources: map[string]framework.Resource{
//				"docker:index/network:Network": &network{},
//			},
//			Functions: map[string]framework.Function{ /* optional invokes */ },
//			Configure: func(ctx context.Context, cfg framework.PropertyMap) error { ... }, // optional
//		}
//		if err := framework.Main(p); err != nil {
//			fmt.Fprintln(os.Stderr, err)
//			os.Exit(1)
//		}
//	}
//
// Main serves gRPC on a free port, prints the port (the plugin protocol)
// and stops on SIGINT/SIGTERM or when the engine goes away. The server
// implements Handshake and Configure (acceptSecrets, acceptResources,
// supportsPreview all true), GetPluginInfo (Provider.Version), GetSchema
// (MinimalSchema: name, version, the tokens, or Provider.Schema if set),
// CheckConfig (Provider.CheckConfig or accept as is), DiffConfig (never
// replaces), Attach, Cancel (cancels the ctx of every running call), Invoke
// (Provider.Functions) and Check/Diff/Create/Read/Update/Delete dispatched
// by type token. NewServer(p, engineAddr) returns the same gRPC server for
// in-process tests.
//
// Provider configuration ("docker:host" etc.) arrives as a PropertyMap keyed
// by the bare key ("host"); from Configure's Args when the engine sends them
// (typed, secrets kept), else from its Variables as strings. Every request
// carries it in Common.Config.
//
// # Resources
//
// A Resource is an interface; embed Base for the defaults and override what
// the type needs:
//
//	type network struct{ framework.Base }
//
//	Check(ctx, CheckRequest{Olds, News, RandomSeed}) (inputs PropertyMap, []CheckFailure, error)
//	    default: News unchanged. Apply defaults here; they are stored as inputs.
//	Diff(ctx, DiffRequest{ID, OldState, OldInputs, News, IgnoreChanges}) (DiffResult, error)
//	    default: any changed input replaces. Use DiffInputs(req.OldInputsOrState(), req.News,
//	    ReplaceKeys("name", "driver")) for "these keys replace, the rest update in place".
//	Create(ctx, CreateRequest{Inputs, Timeout}) (id string, outputs PropertyMap, error)
//	    default: error. When req.Preview is true change nothing and return the
//	    outputs known so far with Unknown() for the computed ones (id may be "").
//	Read(ctx, ReadRequest{ID, State, Inputs}) (ReadResult{ID, Outputs, Inputs}, error)
//	    default: state and inputs unchanged. ReadResult{ID: ""} = resource gone.
//	Update(ctx, UpdateRequest{ID, OldState, OldInputs, News, Timeout, IgnoreChanges}) (outputs, error)
//	    default: error. req.Preview as for Create.
//	Delete(ctx, DeleteRequest{ID, State, OldInputs, Timeout}) error
//	    default: nothing.
//
// Every request embeds Common{URN, Name, Type, Config, Host, Preview}.
// Outputs are the full state: include the inputs you want in state (the
// engine does not merge them). Return *PartialError{ID, Outputs, Reasons}
// from Create/Update/Read when the resource exists but the operation
// failed; the engine keeps that state. Any other error fails the step with
// its message.
//
// DiffResult{Changed, Replaces, Stables, DeleteBeforeReplace, Detailed}:
// Changed=false means no change; Replaces lists top-level keys forcing
// replacement; Detailed maps property paths to Add/AddReplace/Delete/
// DeleteReplace/Update/UpdateReplace (shown by the CLI).
//
// # Property values
//
// PropertyMap is resource.PropertyMap from the Pulumi Go SDK
// (sdk/v3/go/common/resource). Incoming maps keep secrets
// (resource.MakeSecret wrappers) and unknowns (computed values during
// preview); nulls are dropped. Outgoing maps are marshalled the same way,
// so wrap outputs that must be secret with Secret(v) / SecretIf(v, cond) and
// use Unknown() for values not known in preview.
//
// Helpers (secrets are unwrapped by the getters; ok=false when missing,
// null, unknown or of another type):
//
//	GetString, StringOr, GetBool, BoolOr, GetNumber, GetInt, IntOr,
//	GetObject (inner values left as they are), GetStringMap, GetStringList, GetAsset
//	Has, IsUnknown, AnyUnknown, IsSecret, AnySecret, Plain, PlainMap, Copy, SortedKeys
//	Str, Num, Bool, Obj (value constructors), Unknown, Secret, SecretIf
//	ChangedKeys(olds, news): changed top-level keys, secretness alone is not a change,
//	    an unknown new value always is
//	DiffInputs(olds, news, replace func(key) bool), ReplaceKeys(keys...)
//
// # Logging
//
// Common.Host (never nil) sends messages to the engine, shown against the
// resource: Host.Log(ctx, framework.Info, req.URN, msg), Host.Logf,
// Host.Status (ephemeral progress line). Severities Debug, Info, Warning,
// Error. Never log secret values.
package framework
