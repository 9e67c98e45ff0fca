package eventhubs

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azeventhubs/v2"

	"github.com/palisade-sec/palisade/internal/audit/connect"
)

// ClientOptions names the hub. Either Namespace (with the default Azure
// credential chain: environment, workload identity, managed identity, az
// CLI) or ConnectionString is used; neither is ever logged.
type ClientOptions struct {
	Namespace        string // <name>.servicebus.windows.net
	ConnectionString string
	EventHub         string
	ConsumerGroup    string // default $Default
}

// ConsumerHub is a Hub over the SDK's consumer client.
type ConsumerHub struct{ cc *azeventhubs.ConsumerClient }

// NewConsumerHub opens a consumer client; Close releases it.
func NewConsumerHub(co ClientOptions) (*ConsumerHub, error) {
	group := co.ConsumerGroup
	if group == "" {
		group = azeventhubs.DefaultConsumerGroup
	}
	var cc *azeventhubs.ConsumerClient
	var err error
	switch {
	case co.ConnectionString != "":
		cc, err = azeventhubs.NewConsumerClientFromConnectionString(co.ConnectionString, co.EventHub, group, nil)
	case co.Namespace != "":
		cred, cerr := azidentity.NewDefaultAzureCredential(nil)
		if cerr != nil {
			return nil, fmt.Errorf("azure credentials: %w", cerr)
		}
		cc, err = azeventhubs.NewConsumerClient(co.Namespace, co.EventHub, group, cred, nil)
	default:
		return nil, errors.New("event hub: a namespace or a connection string is required")
	}
	if err != nil {
		return nil, fmt.Errorf("event hub %s client: %w", co.EventHub, err)
	}
	return &ConsumerHub{cc: cc}, nil
}

// Partitions implements Hub.
func (h *ConsumerHub) Partitions(ctx context.Context) ([]string, error) {
	props, err := h.cc.GetEventHubProperties(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("get event hub properties: %w", err)
	}
	return props.PartitionIDs, nil
}

// Open implements Hub.
func (h *ConsumerHub) Open(partition string, start azeventhubs.StartPosition) (Receiver, error) {
	pc, err := h.cc.NewPartitionClient(partition, &azeventhubs.PartitionClientOptions{StartPosition: start})
	if err != nil {
		return nil, fmt.Errorf("open partition %s: %w", partition, err)
	}
	return pc, nil
}

// Close releases the client.
func (h *ConsumerHub) Close(ctx context.Context) error { return h.cc.Close(ctx) }

// FileCheckpoints keeps positions in one JSON file, replaced atomically.
type FileCheckpoints struct {
	Path string
	mu   sync.Mutex
	pos  map[string]Position
}

// Load implements Checkpoints.
func (f *FileCheckpoints) Load(context.Context) (map[string]Position, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pos = map[string]Position{}
	if err := connect.LoadJSON(f.Path, &f.pos); err != nil {
		return nil, err
	}
	out := make(map[string]Position, len(f.pos))
	for k, v := range f.pos {
		out[k] = v
	}
	return out, nil
}

// Save implements Checkpoints.
func (f *FileCheckpoints) Save(_ context.Context, partition string, p Position) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.pos == nil {
		f.pos = map[string]Position{}
	}
	f.pos[partition] = p
	return connect.SaveJSON(f.Path, f.pos)
}
