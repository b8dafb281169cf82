// Command quickstart is the comfyd client example: a session with two
// skills, a streamed reply, and a graph built through a headless canvas.
//
//	go run ./examples/quickstart [TARGET]
//
// TARGET is a gRPC target such as 127.0.0.1:50051 or unix:/path/c.sock
// (default: $COMFYD_ADDR, else 127.0.0.1:50051). Exits 0 when every step
// succeeded, 1 otherwise. The graph part is skipped (still exit 0) when the
// service does not offer GraphService.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/wrapperspb"

	comfydv1 "comfyd.dev/clients/go/comfyd/v1"
)

var skills = []string{"workflow-builder", "prompt-writer"}

// Deadlines: calls answer at once; a turn of the echo provider takes a few
// seconds; a patch waits for this process's own editor goroutine.
const (
	callTimeout    = 10 * time.Second
	turnTimeout    = 120 * time.Second
	patchTimeoutMs = 10000
)

// objectInfo declares the node types of the headless canvas (ComfyUI's
// /object_info format), so the example works without a ComfyUI install.
const objectInfo = `{
 "CheckpointLoaderSimple": {
  "input": {"required": {"ckpt_name": [["sd_xl_base_1.0.safetensors", "v1-5-pruned-emaonly.safetensors"], {}]}},
  "input_order": {"required": ["ckpt_name"]},
  "output": ["MODEL", "CLIP", "VAE"], "output_is_list": [false, false, false],
  "output_name": ["MODEL", "CLIP", "VAE"], "name": "CheckpointLoaderSimple",
  "display_name": "Load Checkpoint", "description": "", "python_module": "nodes",
  "category": "loaders", "output_node": false
 },
 "CLIPTextEncode": {
  "input": {"required": {"text": ["STRING", {"multiline": true, "dynamicPrompts": true}], "clip": ["CLIP", {}]}},
  "input_order": {"required": ["text", "clip"]},
  "output": ["CONDITIONING"], "output_is_list": [false], "output_name": ["CONDITIONING"],
  "name": "CLIPTextEncode", "display_name": "CLIP Text Encode (Prompt)", "description": "",
  "python_module": "nodes", "category": "conditioning", "output_node": false
 }
}`

var nodeTypeNames = []string{"CheckpointLoaderSimple", "CLIPTextEncode"}

func randomID() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// chat creates a session with two skills, sends a message and prints the
// reply deltas until the turn is over. It returns the replies by skill.
func chat(ctx context.Context, conn *grpc.ClientConn) (map[string]string, error) {
	sk := comfydv1.NewSkillServiceClient(conn)
	ss := comfydv1.NewSessionServiceClient(conn)

	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	loaded, err := sk.ListSkills(cctx, &comfydv1.ListSkillsRequest{})
	if err != nil {
		return nil, err
	}
	have := map[string]bool{}
	var names []string
	for _, s := range loaded.GetSkills() {
		have[s.GetName()] = true
		names = append(names, s.GetName())
	}
	fmt.Printf("skills: %s\n", strings.Join(names, ", "))
	for _, s := range skills {
		if !have[s] {
			return nil, fmt.Errorf("comfyd does not have the skill %s", s)
		}
	}

	created, err := ss.CreateSession(cctx, &comfydv1.CreateSessionRequest{
		Title:  "client example (go)",
		Config: &comfydv1.SessionConfig{Provider: "echo", ActiveSkills: skills},
	})
	if err != nil {
		return nil, err
	}
	sid := created.GetSession().GetId()
	fmt.Printf("session %s: skills %s\n", sid, strings.Join(created.GetSession().GetConfig().GetActiveSkills(), ", "))

	// Subscribe first, so no event of the turn is missed; the stream opens
	// with a sync_state snapshot.
	sctx, scancel := context.WithTimeout(ctx, turnTimeout)
	defer scancel()
	stream, err := ss.Subscribe(sctx, &comfydv1.SubscribeRequest{SessionId: sid})
	if err != nil {
		return nil, err
	}
	first, err := stream.Recv()
	if err != nil {
		return nil, err
	}
	if first.GetEvent().GetSyncState() == nil {
		return nil, fmt.Errorf("the stream did not open with sync_state")
	}

	sent, err := ss.SendMessage(cctx, &comfydv1.SendMessageRequest{
		SessionId:       sid,
		Content:         "Build a minimal text-to-image workflow and suggest a prompt for a lighthouse at dusk.",
		ClientMessageId: randomID(),
	})
	if err != nil {
		return nil, err
	}
	turn := sent.GetMessage().GetId()
	fmt.Printf("sent message %d\n", turn)

	streamed := map[string][]string{}
	stored := map[string]*comfydv1.ChatMessage{}
	running := false
loop:
	for {
		item, err := stream.Recv()
		if err == io.EOF {
			return nil, fmt.Errorf("the event stream ended before the turn finished")
		}
		if err != nil {
			return nil, err
		}
		switch k := item.GetEvent().GetKind().(type) {
		case *comfydv1.SessionEvent_StreamDelta:
			d := k.StreamDelta
			if d.GetTurnId() != turn {
				continue
			}
			streamed[d.GetSkill()] = append(streamed[d.GetSkill()], d.GetDelta())
			q, _ := json.Marshal(d.GetDelta())
			fmt.Printf("delta [%s] %s\n", d.GetSkill(), q)
		case *comfydv1.SessionEvent_MessageAdded:
			m := k.MessageAdded.GetMessage()
			if m.GetTurnId() == turn && m.GetRole() == comfydv1.Role_ROLE_ASSISTANT {
				stored[m.GetSkill()] = m
			}
		case *comfydv1.SessionEvent_Error:
			if k.Error.GetTurnId() == turn {
				fmt.Printf("error [%s] %s: %s\n", k.Error.GetSkill(), k.Error.GetCode(), k.Error.GetMessage())
			}
		case *comfydv1.SessionEvent_StatusUpdate:
			// WORKING names the turn; the IDLE or ERROR that ends it may
			// carry turn_id 0.
			st := k.StatusUpdate.GetStatus()
			if st == comfydv1.SessionStatus_SESSION_STATUS_WORKING && k.StatusUpdate.GetTurnId() == turn {
				running = true
			} else if running && (st == comfydv1.SessionStatus_SESSION_STATUS_IDLE ||
				st == comfydv1.SessionStatus_SESSION_STATUS_ERROR) {
				if st != comfydv1.SessionStatus_SESSION_STATUS_IDLE {
					fmt.Printf("turn %d finished: error\n", turn)
					return nil, fmt.Errorf("the turn failed")
				}
				fmt.Printf("turn %d finished: idle\n", turn)
				break loop
			}
		}
	}
	scancel()

	replies := map[string]string{}
	for _, s := range skills {
		text := strings.Join(streamed[s], "")
		m := stored[s]
		if m == nil {
			return nil, fmt.Errorf("no reply was stored for %s", s)
		}
		if m.GetContent() != text {
			return nil, fmt.Errorf("the deltas of %s do not add up to its stored reply", s)
		}
		fmt.Printf("reply from %s (%d deltas): %s\n", s, len(streamed[s]), text)
		replies[s] = text
	}
	return replies, nil
}

// ---- a minimal headless editor ----

// The workflow as LiteGraph serialises it (the fields comfyd reads).
type wfInput struct {
	Name string `json:"name"`
	Type string `json:"type"`
	Link *int64 `json:"link"`
}

type wfOutput struct {
	Name      string  `json:"name"`
	Type      string  `json:"type"`
	Links     []int64 `json:"links"`
	SlotIndex int     `json:"slot_index"`
}

type wfNode struct {
	ID            int64             `json:"id"`
	Type          string            `json:"type"`
	Title         string            `json:"title,omitempty"`
	Pos           [2]float64        `json:"pos"`
	Size          [2]float64        `json:"size"`
	Flags         struct{}          `json:"flags"`
	Order         int               `json:"order"`
	Mode          int               `json:"mode"`
	Inputs        []wfInput         `json:"inputs"`
	Outputs       []wfOutput        `json:"outputs"`
	Properties    map[string]string `json:"properties"`
	WidgetsValues []any             `json:"widgets_values"`
}

// wfLink is serialised as LiteGraph's [id, from, from_slot, to, to_slot, type].
type wfLink struct {
	ID, From int64
	FromSlot int
	To       int64
	ToSlot   int
	Type     string
}

func (l wfLink) MarshalJSON() ([]byte, error) {
	return json.Marshal([]any{l.ID, l.From, l.FromSlot, l.To, l.ToSlot, l.Type})
}

type workflow struct {
	LastNodeID int64          `json:"last_node_id"`
	LastLinkID int64          `json:"last_link_id"`
	Nodes      []*wfNode      `json:"nodes"`
	Links      []wfLink       `json:"links"`
	Groups     []any          `json:"groups"`
	Config     map[string]any `json:"config"`
	Extra      map[string]any `json:"extra"`
	Version    float64        `json:"version"`
}

func emptyWorkflow() *workflow {
	return &workflow{Nodes: []*wfNode{}, Links: []wfLink{}, Groups: []any{},
		Config: map[string]any{}, Extra: map[string]any{}, Version: 0.4}
}

func (w *workflow) clone() *workflow {
	c := *w
	c.Nodes = make([]*wfNode, len(w.Nodes))
	for i, n := range w.Nodes {
		m := *n
		m.Inputs = append([]wfInput(nil), n.Inputs...)
		for j := range m.Inputs {
			if n.Inputs[j].Link != nil {
				v := *n.Inputs[j].Link
				m.Inputs[j].Link = &v
			}
		}
		m.Outputs = append([]wfOutput(nil), n.Outputs...)
		for j := range m.Outputs {
			m.Outputs[j].Links = append([]int64{}, n.Outputs[j].Links...)
		}
		m.WidgetsValues = append([]any{}, n.WidgetsValues...)
		c.Nodes[i] = &m
	}
	c.Links = append([]wfLink{}, w.Links...)
	return &c
}

func valueToJSON(v *comfydv1.Value) any {
	switch k := v.GetKind().(type) {
	case *comfydv1.Value_Number:
		return k.Number
	case *comfydv1.Value_Text:
		return k.Text
	case *comfydv1.Value_Boolean:
		return k.Boolean
	case *comfydv1.Value_Integer:
		return k.Integer
	}
	return nil
}

// editor keeps a LiteGraph workflow, applies the patches comfyd sends
// (create_node, connect, set_widget, move_node) as one step each, and
// reports the workflow after the patch. A patch with a command it cannot
// apply changes nothing and is reported as failed.
type editor struct {
	graph    comfydv1.GraphServiceClient
	canvasID string

	mu          sync.Mutex
	wf          *workflow
	tabRevision uint64
	types       map[string]*comfydv1.NodeType
	revision    uint64
}

func (e *editor) attachRequest() (*comfydv1.AttachCanvasRequest, error) {
	wf, err := json.Marshal(e.wf)
	if err != nil {
		return nil, err
	}
	return &comfydv1.AttachCanvasRequest{
		CanvasId: e.canvasID, Title: "client example", WorkflowJson: string(wf),
		ObjectInfoJson: objectInfo, Focused: true, TabRevision: e.tabRevision,
	}, nil
}

// run reads the AttachCanvas stream until it ends; attached is closed once
// the canvas is attached (or the stream failed first).
func (e *editor) run(ctx context.Context, stream grpc.ServerStreamingClient[comfydv1.AttachCanvasResponse],
	attached chan<- struct{}) error {
	once := sync.Once{}
	defer once.Do(func() { close(attached) })
	for {
		msg, err := stream.Recv()
		if err != nil {
			if err == io.EOF || status.Code(err) == codes.Canceled {
				return nil
			}
			return fmt.Errorf("canvas stream: %w", err)
		}
		switch k := msg.GetKind().(type) {
		case *comfydv1.AttachCanvasResponse_Attached:
			e.mu.Lock()
			e.revision = k.Attached.GetRevision()
			e.mu.Unlock()
			once.Do(func() { close(attached) })
		case *comfydv1.AttachCanvasResponse_Patch:
			if err := e.onPatch(ctx, k.Patch); err != nil {
				// The caller may have its answer (the core answers it as
				// soon as our report arrives) and stop the editor while the
				// report's own reply is still on its way: not a failure.
				if ctx.Err() != nil {
					return nil
				}
				return err
			}
		case *comfydv1.AttachCanvasResponse_Queue:
			// Queue and load need a ComfyUI behind the tab.
			if err := e.report(ctx, &comfydv1.ReportEditorRequest{CanvasId: e.canvasID,
				Report: &comfydv1.ReportEditorRequest_QueueResult{QueueResult: &comfydv1.EditorQueueResult{
					RequestId: k.Queue.GetRequestId(), Error: "this editor cannot queue"}}}); err != nil {
				return err
			}
		case *comfydv1.AttachCanvasResponse_Load:
			if err := e.report(ctx, &comfydv1.ReportEditorRequest{CanvasId: e.canvasID,
				Report: &comfydv1.ReportEditorRequest_LoadResult{LoadResult: &comfydv1.EditorLoadResult{
					RequestId: k.Load.GetRequestId(), Error: "this editor cannot load"}}}); err != nil {
				return err
			}
		}
	}
}

func (e *editor) report(ctx context.Context, req *comfydv1.ReportEditorRequest) error {
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	rep, err := e.graph.ReportEditor(cctx, req)
	if err != nil {
		return fmt.Errorf("ReportEditor: %w", err)
	}
	e.mu.Lock()
	e.revision = rep.GetRevision()
	e.mu.Unlock()
	return nil
}

func (e *editor) onPatch(ctx context.Context, p *comfydv1.PatchRequest) error {
	e.mu.Lock()
	wf := e.wf.clone()
	refs := map[string]int64{}
	var results []*comfydv1.CommandResult
	var failure error
	for i, c := range p.GetCommands() {
		r, err := e.apply(wf, c, int32(i), refs)
		if err != nil {
			failure = err
			break
		}
		results = append(results, r)
	}
	res := &comfydv1.PatchResult{RequestId: p.GetRequestId()}
	if failure != nil {
		res.Error = failure.Error()
	} else {
		text, err := json.Marshal(wf)
		if err != nil {
			e.mu.Unlock()
			return err
		}
		e.wf = wf
		e.tabRevision++
		res.Ok, res.Results, res.WorkflowJson, res.TabRevision = true, results, string(text), e.tabRevision
	}
	e.mu.Unlock()
	return e.report(ctx, &comfydv1.ReportEditorRequest{CanvasId: e.canvasID,
		Report: &comfydv1.ReportEditorRequest_PatchResult{PatchResult: res}})
}

func (e *editor) apply(wf *workflow, c *comfydv1.Command, index int32, refs map[string]int64) (*comfydv1.CommandResult, error) {
	switch k := c.GetCommand().(type) {
	case *comfydv1.Command_CreateNode:
		n, err := e.newNode(wf, k.CreateNode)
		if err != nil {
			return nil, err
		}
		if k.CreateNode.GetRef() != "" {
			refs[k.CreateNode.GetRef()] = n.ID
		}
		return &comfydv1.CommandResult{Index: index, Ok: true, NodeId: n.ID}, nil
	case *comfydv1.Command_Connect:
		src, err := findNode(wf, k.Connect.GetFromId(), refs)
		if err != nil {
			return nil, err
		}
		dst, err := findNode(wf, k.Connect.GetToId(), refs)
		if err != nil {
			return nil, err
		}
		out, err := outputIndex(src, k.Connect.GetFromSlot())
		if err != nil {
			return nil, err
		}
		in, err := inputIndex(dst, k.Connect.GetToSlot())
		if err != nil {
			return nil, err
		}
		id := connect(wf, src, out, dst, in)
		return &comfydv1.CommandResult{Index: index, Ok: true, NodeId: dst.ID, LinkId: id}, nil
	case *comfydv1.Command_SetWidget:
		n, err := findNode(wf, k.SetWidget.GetNodeId(), refs)
		if err != nil {
			return nil, err
		}
		names, err := e.widgetNames(n.Type)
		if err != nil {
			return nil, err
		}
		for i, name := range names {
			if name == k.SetWidget.GetName() {
				n.WidgetsValues[i] = valueToJSON(k.SetWidget.GetValue())
				return &comfydv1.CommandResult{Index: index, Ok: true, NodeId: n.ID, Value: k.SetWidget.GetValue()}, nil
			}
		}
		return nil, fmt.Errorf("node %d has no widget %s", n.ID, k.SetWidget.GetName())
	case *comfydv1.Command_MoveNode:
		n, err := findNode(wf, k.MoveNode.GetNodeId(), refs)
		if err != nil {
			return nil, err
		}
		n.Pos = [2]float64{k.MoveNode.GetX(), k.MoveNode.GetY()}
		return &comfydv1.CommandResult{Index: index, Ok: true, NodeId: n.ID}, nil
	}
	name := "an empty command"
	m := c.ProtoReflect()
	if fd := m.WhichOneof(m.Descriptor().Oneofs().ByName("command")); fd != nil {
		name = string(fd.Name())
	}
	return nil, fmt.Errorf("this editor does not apply %s", name)
}

func (e *editor) widgetNames(typeName string) ([]string, error) {
	nt := e.types[typeName]
	if nt == nil {
		return nil, fmt.Errorf("unknown node type %s", typeName)
	}
	var names []string
	for _, in := range nt.GetInputs() {
		if in.GetIsWidget() {
			names = append(names, in.GetName())
		}
	}
	return names, nil
}

func (e *editor) newNode(wf *workflow, c *comfydv1.CreateNodeCommand) (*wfNode, error) {
	nt := e.types[c.GetNodeType()]
	if nt == nil {
		return nil, fmt.Errorf("unknown node type %s", c.GetNodeType())
	}
	n := &wfNode{Type: c.GetNodeType(), Title: c.GetTitle(), Order: len(wf.Nodes), Size: [2]float64{320, 100},
		Inputs: []wfInput{}, Outputs: []wfOutput{}, WidgetsValues: []any{},
		Properties: map[string]string{"Node name for S&R": c.GetNodeType()}}
	used := 0
	for _, in := range nt.GetInputs() {
		if !in.GetIsWidget() {
			n.Inputs = append(n.Inputs, wfInput{Name: in.GetName(), Type: in.GetType()})
			continue
		}
		v := valueToJSON(in.GetDefaultValue())
		if v == nil && len(in.GetOptions()) > 0 {
			v = in.GetOptions()[0]
		}
		if w, ok := c.GetWidgets()[in.GetName()]; ok {
			v = valueToJSON(w)
			used++
		}
		n.WidgetsValues = append(n.WidgetsValues, v)
	}
	if used != len(c.GetWidgets()) {
		return nil, fmt.Errorf("%s lacks a widget of the command", c.GetNodeType())
	}
	for i, o := range nt.GetOutputs() {
		n.Outputs = append(n.Outputs, wfOutput{Name: o.GetName(), Type: o.GetType(), Links: []int64{}, SlotIndex: i})
	}
	n.Pos = [2]float64{100 + 400*float64(len(wf.Nodes)%4), 100 + 300*float64(len(wf.Nodes)/4)}
	if c.GetX() != nil {
		n.Pos[0] = c.GetX().GetValue()
	}
	if c.GetY() != nil {
		n.Pos[1] = c.GetY().GetValue()
	}
	wf.LastNodeID++
	n.ID = wf.LastNodeID
	wf.Nodes = append(wf.Nodes, n)
	return n, nil
}

func findNode(wf *workflow, ref *comfydv1.NodeRef, refs map[string]int64) (*wfNode, error) {
	var id int64
	switch k := ref.GetNode().(type) {
	case *comfydv1.NodeRef_Ref:
		v, ok := refs[k.Ref]
		if !ok {
			return nil, fmt.Errorf("no node was created as %s", k.Ref)
		}
		id = v
	case *comfydv1.NodeRef_Id:
		id = k.Id
	default:
		return nil, errors.New("a node reference is empty")
	}
	for _, n := range wf.Nodes {
		if n.ID == id {
			return n, nil
		}
	}
	return nil, fmt.Errorf("node %d is not on the canvas", id)
}

func outputIndex(n *wfNode, s *comfydv1.SlotRef) (int, error) {
	names := make([]string, len(n.Outputs))
	for i, o := range n.Outputs {
		names[i] = o.Name
	}
	return slotIndex(names, s, "output")
}

func inputIndex(n *wfNode, s *comfydv1.SlotRef) (int, error) {
	names := make([]string, len(n.Inputs))
	for i, in := range n.Inputs {
		names[i] = in.Name
	}
	return slotIndex(names, s, "input")
}

func slotIndex(names []string, s *comfydv1.SlotRef, what string) (int, error) {
	switch k := s.GetSlot().(type) {
	case *comfydv1.SlotRef_Index:
		if int(k.Index) >= len(names) {
			return 0, fmt.Errorf("no %s slot %d", what, k.Index)
		}
		return int(k.Index), nil
	case *comfydv1.SlotRef_Name:
		for i, n := range names {
			if n == k.Name {
				return i, nil
			}
		}
		return 0, fmt.Errorf("no %s slot %s", what, k.Name)
	}
	return 0, errors.New("a slot reference is empty")
}

func connect(wf *workflow, src *wfNode, out int, dst *wfNode, in int) int64 {
	if old := dst.Inputs[in].Link; old != nil {
		links := wf.Links[:0]
		for _, l := range wf.Links {
			if l.ID != *old {
				links = append(links, l)
			}
		}
		wf.Links = links
		for _, n := range wf.Nodes {
			for j := range n.Outputs {
				kept := n.Outputs[j].Links[:0]
				for _, id := range n.Outputs[j].Links {
					if id != *old {
						kept = append(kept, id)
					}
				}
				n.Outputs[j].Links = kept
			}
		}
	}
	wf.LastLinkID++
	id := wf.LastLinkID
	wf.Links = append(wf.Links, wfLink{ID: id, From: src.ID, FromSlot: out, To: dst.ID, ToSlot: in, Type: src.Outputs[out].Type})
	src.Outputs[out].Links = append(src.Outputs[out].Links, id)
	dst.Inputs[in].Link = &id
	return id
}

func nodeRef(ref string) *comfydv1.NodeRef {
	return &comfydv1.NodeRef{Node: &comfydv1.NodeRef_Ref{Ref: ref}}
}

func slotName(name string) *comfydv1.SlotRef {
	return &comfydv1.SlotRef{Slot: &comfydv1.SlotRef_Name{Name: name}}
}

func text(s string) *comfydv1.Value {
	return &comfydv1.Value{Kind: &comfydv1.Value_Text{Text: s}}
}

// buildGraph attaches a headless canvas and builds a two-node graph on it
// with one ExecuteBatch. It returns false when the service has no
// GraphService.
func buildGraph(ctx context.Context, conn *grpc.ClientConn, promptText string) (bool, error) {
	graph := comfydv1.NewGraphServiceClient(conn)
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	if _, err := graph.ListCanvases(cctx, &comfydv1.ListCanvasesRequest{}); err != nil {
		if status.Code(err) == codes.Unimplemented {
			return false, nil
		}
		return false, err
	}

	e := &editor{graph: graph, canvasID: "example-go-" + randomID()[:12], wf: emptyWorkflow(), tabRevision: 1}
	req, err := e.attachRequest()
	if err != nil {
		return false, err
	}
	actx, stop := context.WithCancel(ctx)
	stream, err := graph.AttachCanvas(actx, req)
	if err != nil {
		stop()
		return false, err
	}
	attached := make(chan struct{})
	done := make(chan error, 1)
	go func() { done <- e.run(actx, stream, attached) }()
	// The editor's outcome counts as well: stop it and collect it.
	finish := func(err error) (bool, error) {
		stop()
		if rerr := <-done; err == nil && rerr != nil {
			err = rerr
		}
		return err == nil, err
	}

	select {
	case <-attached:
	case <-time.After(callTimeout):
		return finish(errors.New("the canvas was not attached in time"))
	}
	e.mu.Lock()
	rev := e.revision
	e.mu.Unlock()
	if rev == 0 {
		return finish(errors.New("the canvas stream ended before the canvas was attached"))
	}
	fmt.Printf("canvas %s attached at revision %d\n", e.canvasID, rev)

	types, err := graph.ListNodeTypes(cctx, &comfydv1.ListNodeTypesRequest{CanvasId: e.canvasID, Names: nodeTypeNames})
	if err != nil {
		return finish(err)
	}
	e.mu.Lock()
	e.types = map[string]*comfydv1.NodeType{}
	for _, t := range types.GetNodeTypes() {
		e.types[t.GetName()] = t
	}
	e.mu.Unlock()

	commands := []*comfydv1.Command{
		{Command: &comfydv1.Command_CreateNode{CreateNode: &comfydv1.CreateNodeCommand{
			NodeType: "CheckpointLoaderSimple", Ref: "ckpt", X: wrapperspb.Double(100), Y: wrapperspb.Double(100),
			Widgets: map[string]*comfydv1.Value{"ckpt_name": text("sd_xl_base_1.0.safetensors")}}}},
		{Command: &comfydv1.Command_CreateNode{CreateNode: &comfydv1.CreateNodeCommand{
			NodeType: "CLIPTextEncode", Ref: "prompt", X: wrapperspb.Double(500), Y: wrapperspb.Double(100),
			Widgets: map[string]*comfydv1.Value{"text": text(promptText)}}}},
		{Command: &comfydv1.Command_Connect{Connect: &comfydv1.ConnectCommand{
			FromId: nodeRef("ckpt"), FromSlot: slotName("CLIP"), ToId: nodeRef("prompt"), ToSlot: slotName("clip")}}},
	}
	bctx, bcancel := context.WithTimeout(ctx, callTimeout+patchTimeoutMs*time.Millisecond)
	defer bcancel()
	resp, err := graph.ExecuteBatch(bctx, &comfydv1.ExecuteBatchRequest{
		CanvasId: e.canvasID, Commands: commands, IdempotencyKey: randomID(), TimeoutMs: patchTimeoutMs})
	if err != nil {
		return finish(err)
	}
	if !resp.GetOk() {
		var msgs []string
		for _, ge := range resp.GetErrors() {
			msgs = append(msgs, fmt.Sprintf("%s: %s", ge.GetCode(), ge.GetMessage()))
		}
		return finish(fmt.Errorf("the batch failed: %s", strings.Join(msgs, "; ")))
	}
	var refs []string
	for k, v := range resp.GetRefs() {
		refs = append(refs, fmt.Sprintf("%s=#%d", k, v))
	}
	sort.Strings(refs)
	fmt.Printf("batch applied at revision %d: %s\n", resp.GetRevision(), strings.Join(refs, ", "))

	got, err := graph.GetGraph(cctx, &comfydv1.GetGraphRequest{CanvasId: e.canvasID})
	if err != nil {
		return finish(err)
	}
	g := got.GetGraph()
	for _, n := range g.GetNodes() {
		fmt.Printf("node #%d %s (%s)\n", n.GetId(), n.GetType(), n.GetTitle())
	}
	for _, l := range g.GetLinks() {
		fmt.Printf("link %d: #%d[%d] -> #%d[%d] %s\n", l.GetId(), l.GetFromId(), l.GetFromSlot(), l.GetToId(), l.GetToSlot(), l.GetType())
	}
	if len(g.GetNodes()) != 2 || len(g.GetLinks()) != 1 {
		return finish(fmt.Errorf("the canvas has %d nodes and %d links, not 2 and 1", len(g.GetNodes()), len(g.GetLinks())))
	}
	return finish(nil)
}

func run(target string) error {
	conn, err := grpc.NewClient(target, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx := context.Background()
	fmt.Printf("comfyd at %s\n", target)
	replies, err := chat(ctx, conn)
	if err != nil {
		return err
	}
	promptText := replies["prompt-writer"]
	if r := []rune(promptText); len(r) > 500 {
		promptText = string(r[:500])
	}
	if promptText == "" {
		promptText = "a lighthouse at dusk"
	}
	ok, err := buildGraph(ctx, conn, promptText)
	if err != nil {
		return err
	}
	if ok {
		fmt.Println("graph built")
	} else {
		fmt.Println("graph: this comfyd has no GraphService; skipped")
	}
	return nil
}

func main() {
	target := os.Getenv("COMFYD_ADDR")
	if len(os.Args) > 1 {
		target = os.Args[1]
	}
	if target == "" {
		target = "127.0.0.1:50051"
	}
	started := time.Now()
	if err := run(target); err != nil {
		if st, ok := status.FromError(err); ok && st.Code() != codes.Unknown {
			fmt.Fprintf(os.Stderr, "error: %s: %s\n", st.Code(), st.Message())
		} else {
			fmt.Fprintf(os.Stderr, "error: %v\n", err)
		}
		os.Exit(1)
	}
	fmt.Printf("done in %.1f s\n", time.Since(started).Seconds())
}
