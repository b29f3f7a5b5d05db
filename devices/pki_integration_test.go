package devices

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestIntegrationClientCertMosquitto issues a certificate with the stack's CA
// and connects to the stack's Mosquitto TLS listener (require_certificate,
// use_identity_as_username, per-identity ACL) with it.
//
// SUNPROOF_CA_DIR (default ../.stack/ca) holds ca.crt and ca.key;
// SUNPROOF_MQTTS_URL (default ssl://127.0.0.1:8883) is the listener.
func TestIntegrationClientCertMosquitto(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test against Mosquitto: skipped with -short")
	}
	caDir := os.Getenv("SUNPROOF_CA_DIR")
	if caDir == "" {
		caDir = filepath.Join("..", ".stack", "ca")
	}
	ca, err := LoadCA(filepath.Join(caDir, "ca.crt"), filepath.Join(caDir, "ca.key"))
	if err != nil {
		t.Fatalf("stack CA (SUNPROOF_CA_DIR=%s): %v (start the stack with scripts/stack.sh up)", caDir, err)
	}
	addr := "127.0.0.1:8883"
	if s := os.Getenv("SUNPROOF_MQTTS_URL"); s != "" {
		u, err := url.Parse(s)
		if err != nil {
			t.Fatalf("SUNPROOF_MQTTS_URL: %v", err)
		}
		addr = u.Host
	}
	if c, err := net.DialTimeout("tcp", addr, 3*time.Second); err != nil {
		t.Fatalf("Mosquitto TLS listener unreachable at %s (SUNPROOF_MQTTS_URL): %v (start it with scripts/stack.sh up)", addr, err)
	} else {
		c.Close()
	}
	plainAddr := "127.0.0.1:1883"
	if s := os.Getenv("SUNPROOF_MQTT_URL"); s != "" {
		u, err := url.Parse(s)
		if err != nil {
			t.Fatalf("SUNPROOF_MQTT_URL: %v", err)
		}
		plainAddr = u.Host
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(ca.CertPEM)

	id := fmt.Sprintf("inv-it-%d", time.Now().UnixNano())
	certPEM, keyPEM, err := ca.IssueClientCert(id, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("accepted", func(t *testing.T) {
		// A plain-listener subscriber watches this device's topic and a
		// topic it must not write to.
		sub, err := mqttDial(plainAddr, nil, nil, id+"-watch")
		if err != nil {
			t.Fatalf("connect to the plain listener %s (SUNPROOF_MQTT_URL): %v", plainAddr, err)
		}
		defer sub.Close()
		own, foreign := "pv/"+id+"/readings", "pv/"+id+"-x/readings"
		for i, f := range []string{own, foreign} {
			if got, err := sub.subscribe(uint16(i+1), f); err != nil || got > 1 {
				t.Fatalf("subscribe %s: granted %#x, %v", f, got, err)
			}
		}

		c, err := mqttDial(addr, roots, &cert, id)
		if err != nil {
			t.Fatalf("connect as %s: %v", id, err)
		}
		defer c.Close()
		// The ACL lets identity X write pv/X/readings only, so this proves
		// the certificate CN became the MQTT username: the publish to its
		// own topic is delivered; the one to another device's topic is
		// refused, and Mosquitto (2.x) then disconnects the client.
		if err := c.publish(own, []byte("0")); err != nil {
			t.Fatalf("publish %s: %v", own, err)
		}
		topic, payload, err := sub.readPublish()
		if err != nil {
			t.Fatalf("subscriber: %v", err)
		}
		if got, want := topic+" "+string(payload), own+" 0"; got != want {
			t.Errorf("subscriber got %q, want %q", got, want)
		}
		if err := c.publish(foreign, []byte("1")); err != nil {
			t.Fatalf("publish %s: %v", foreign, err)
		}
		if typ, body, err := c.readPacket(); err == nil {
			t.Errorf("after publishing to %s: got packet %#x %x, want the broker to disconnect", foreign, typ, body)
		}
		sub.SetDeadline(time.Now().Add(500 * time.Millisecond))
		if topic, payload, err := sub.readPublish(); err == nil {
			t.Errorf("subscriber got %s %q: the ACL did not stop the publish to another device's topic", topic, payload)
		}
	})

	t.Run("no client certificate", func(t *testing.T) {
		c, err := mqttDial(addr, roots, nil, id)
		if err == nil {
			c.Close()
			t.Fatal("connected without a client certificate")
		}
	})

	t.Run("certificate from another CA", func(t *testing.T) {
		other, err := LoadCA(filepath.Join("testdata", "ca", "ec-pkcs8.crt"), filepath.Join("testdata", "ca", "ec-pkcs8.key"))
		if err != nil {
			t.Fatal(err)
		}
		cp, kp, err := other.IssueClientCert(id, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		foreign, err := tls.X509KeyPair(cp, kp)
		if err != nil {
			t.Fatal(err)
		}
		c, err := mqttDial(addr, roots, &foreign, id)
		if err == nil {
			c.Close()
			t.Fatal("connected with a certificate of a foreign CA")
		}
	})
}

// mqttConn is just enough MQTT 3.1.1 to connect and subscribe.
type mqttConn struct {
	net.Conn
	r *bufio.Reader
}

// mqttDial connects over TLS if roots is not nil, else over plain TCP.
func mqttDial(addr string, roots *x509.CertPool, cert *tls.Certificate, clientID string) (*mqttConn, error) {
	d := &net.Dialer{Timeout: 5 * time.Second}
	var nc net.Conn
	var err error
	if roots != nil {
		cfg := &tls.Config{RootCAs: roots, ServerName: "localhost", MinVersion: tls.VersionTLS12}
		if cert != nil {
			cfg.Certificates = []tls.Certificate{*cert}
		}
		nc, err = tls.DialWithDialer(d, "tcp", addr, cfg)
	} else {
		nc, err = d.Dial("tcp", addr)
	}
	if err != nil {
		return nil, err
	}
	c := &mqttConn{Conn: nc, r: bufio.NewReader(nc)}
	c.SetDeadline(time.Now().Add(5 * time.Second))
	var vh []byte
	vh = appendString(vh, "MQTT")
	vh = append(vh, 4, 0x02, 0, 60) // level 4, clean session, keep alive 60 s
	vh = appendString(vh, clientID)
	if err := c.writePacket(0x10, vh); err != nil {
		c.Close()
		return nil, err
	}
	typ, body, err := c.readPacket()
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("read CONNACK: %w", err)
	}
	if typ != 0x20 || len(body) != 2 || body[1] != 0 {
		c.Close()
		return nil, fmt.Errorf("CONNACK %#x %x: refused", typ, body)
	}
	return c, nil
}

// subscribe subscribes at QoS 1 and returns the granted QoS (0x80 = refused).
func (c *mqttConn) subscribe(packetID uint16, filter string) (byte, error) {
	p := binary.BigEndian.AppendUint16(nil, packetID)
	p = appendString(p, filter)
	p = append(p, 1)
	if err := c.writePacket(0x82, p); err != nil {
		return 0, err
	}
	typ, body, err := c.readPacket()
	if err != nil {
		return 0, fmt.Errorf("read SUBACK: %w", err)
	}
	if typ != 0x90 || len(body) != 3 || binary.BigEndian.Uint16(body) != packetID {
		return 0, fmt.Errorf("unexpected packet %#x %x", typ, body)
	}
	return body[2], nil
}

// publish sends a QoS 0 message.
func (c *mqttConn) publish(topic string, payload []byte) error {
	return c.writePacket(0x30, append(appendString(nil, topic), payload...))
}

// readPublish waits for a QoS 0 PUBLISH and returns its topic and payload.
func (c *mqttConn) readPublish() (string, []byte, error) {
	for {
		typ, body, err := c.readPacket()
		if err != nil {
			return "", nil, err
		}
		if typ&0xf0 != 0x30 {
			continue
		}
		if typ&0x06 != 0 {
			return "", nil, fmt.Errorf("PUBLISH with QoS > 0")
		}
		if len(body) < 2 || len(body) < 2+int(binary.BigEndian.Uint16(body)) {
			return "", nil, fmt.Errorf("malformed PUBLISH %x", body)
		}
		n := 2 + int(binary.BigEndian.Uint16(body))
		return string(body[2:n]), body[n:], nil
	}
}

func appendString(b []byte, s string) []byte {
	return append(binary.BigEndian.AppendUint16(b, uint16(len(s))), s...)
}

func (c *mqttConn) writePacket(header byte, body []byte) error {
	p := []byte{header}
	for n := len(body); ; {
		b := byte(n % 128)
		n /= 128
		if n > 0 {
			b |= 0x80
		}
		p = append(p, b)
		if n == 0 {
			break
		}
	}
	_, err := c.Write(append(p, body...))
	return err
}

func (c *mqttConn) readPacket() (byte, []byte, error) {
	typ, err := c.r.ReadByte()
	if err != nil {
		return 0, nil, err
	}
	n, mult := 0, 1
	for i := 0; ; i++ {
		b, err := c.r.ReadByte()
		if err != nil {
			return 0, nil, err
		}
		n += int(b&0x7f) * mult
		if b&0x80 == 0 {
			break
		}
		if i == 3 {
			return 0, nil, fmt.Errorf("malformed remaining length")
		}
		mult *= 128
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(c.r, body); err != nil {
		return 0, nil, err
	}
	return typ, body, nil
}
