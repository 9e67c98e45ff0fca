package checks

import (
	"net"
	"testing"
)

func TestIsPublicIP(t *testing.T) {
	for ip, want := range map[string]bool{
		"127.0.0.1": false, "10.1.2.3": false, "172.20.0.1": false, "192.168.1.1": false, "100.64.0.10": false,
		"169.254.169.254": false, "::1": false, "fd00::1": false, "0.0.0.0": false, "224.0.0.1": false,
		"8.8.8.8": true, "52.95.110.1": true, "2600:1f18::1": true, "100.128.0.1": true,
	} {
		if got := isPublicIP(net.ParseIP(ip)); got != want {
			t.Errorf("isPublicIP(%s) = %v, want %v", ip, got, want)
		}
	}
}
