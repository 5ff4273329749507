package main

import (
	"encoding/binary"
	"fmt"
	"math"
	"net"
	"testing"
	"time"
	"unsafe"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/shoal-cdn/shoal/internal/testenv"
)

// Random packet loss without tc netem (a kernel without sch_netem, as in some CI
// containers): an eight-instruction eBPF classifier on the interface's egress hook drops
// each IPv4 packet with probability p, like `tc qdisc add dev eth0 root netem loss 20%`
// but sparing ARP: losing ARP replies stalls a whole neighbour for a second or more (the
// kernel re-probes every second), which is a different fault from packet loss.

// lossProgram is the classifier: pass (TC_ACT_OK) anything but IPv4; otherwise
// r0 = bpf_get_prandom_u32() and drop (TC_ACT_SHOT) if r0 < p × 2^32.
func lossProgram(p float64) []byte {
	threshold := int32(min(p, 0.49) * math.Exp2(32)) // below 2^31: the immediate is signed
	insn := func(code, regs byte, off int16, imm int32) []byte {
		b := make([]byte, 8)
		b[0], b[1] = code, regs
		binary.LittleEndian.PutUint16(b[2:], uint16(off))
		binary.LittleEndian.PutUint32(b[4:], uint32(imm))
		return b
	}
	const (
		call, exit = 0x85, 0x95
		ldxw       = 0x61 // BPF_LDX | BPF_MEM | BPF_W
		jneImm     = 0x55 // BPF_JMP | BPF_JNE | BPF_K
		jltImm     = 0xa5 // BPF_JMP | BPF_JLT | BPF_K
		movImm     = 0xb7 // BPF_ALU64 | BPF_MOV | BPF_K
		prandom    = 7    // BPF_FUNC_get_prandom_u32
		protocol   = 16   // offsetof(struct __sk_buff, protocol), in network order
		ipv4       = 0x0008
		actOK      = 0
		actShot    = 2
	)
	var prog []byte
	for _, i := range [][]byte{
		insn(ldxw, 1<<4|6, protocol, 0), // r6 = skb->protocol (r1 is the context)
		insn(jneImm, 6, 2, ipv4),        // not IPv4: pass
		insn(call, 0, 0, prandom),
		insn(jltImm, 0, 2, threshold), // drop
		insn(movImm, 0, 0, actOK),
		insn(exit, 0, 0, 0),
		insn(movImm, 0, 0, actShot),
		insn(exit, 0, 0, 0),
	} {
		prog = append(prog, i...)
	}
	return prog
}

// progLoadAttr is the head of union bpf_attr for BPF_PROG_LOAD; the kernel accepts a prefix.
type progLoadAttr struct {
	progType, insnCnt uint32
	insns, license    uint64
	logLevel, logSize uint32
	logBuf            uint64
}

func loadLossProgram(p float64) (int, error) {
	prog := lossProgram(p)
	license := []byte("GPL\x00")
	log := make([]byte, 4096)
	attr := progLoadAttr{
		progType: unix.BPF_PROG_TYPE_SCHED_CLS, insnCnt: uint32(len(prog) / 8),
		insns:    uint64(uintptr(unsafe.Pointer(&prog[0]))),
		license:  uint64(uintptr(unsafe.Pointer(&license[0]))),
		logLevel: 1, logSize: uint32(len(log)), logBuf: uint64(uintptr(unsafe.Pointer(&log[0]))),
	}
	fd, _, errno := unix.Syscall(unix.SYS_BPF, unix.BPF_PROG_LOAD, uintptr(unsafe.Pointer(&attr)), unsafe.Sizeof(attr))
	if errno != 0 {
		return -1, fmt.Errorf("bpf prog load: %w: %s", errno, log)
	}
	return int(fd), nil
}

// setLoss drops a fraction p of the packets dev sends in ns (p = 0 removes the dropper).
func setLoss(t *testing.T, ns *testenv.Netns, dev string, p float64) {
	t.Helper()
	nsh, err := netns.GetFromName(ns.Name)
	if err != nil {
		t.Fatal(err)
	}
	defer nsh.Close()
	h, err := netlink.NewHandleAt(nsh)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	link, err := h.LinkByName(dev)
	if err != nil {
		t.Fatal(err)
	}
	clsact := &netlink.GenericQdisc{QdiscType: "clsact", QdiscAttrs: netlink.QdiscAttrs{
		LinkIndex: link.Attrs().Index, Handle: netlink.MakeHandle(0xffff, 0), Parent: netlink.HANDLE_CLSACT}}
	if p == 0 {
		if err := h.QdiscDel(clsact); err != nil {
			t.Fatalf("remove the packet dropper from %s in %s: %v", dev, ns.Name, err)
		}
		return
	}
	fd, err := loadLossProgram(p)
	if err != nil {
		testenv.Require(t, false, "eBPF classifiers for packet loss: "+err.Error())
	}
	defer unix.Close(fd) // the attached filter keeps the program
	if err := h.QdiscAdd(clsact); err != nil {
		t.Fatalf("clsact on %s in %s: %v", dev, ns.Name, err)
	}
	filter := &netlink.BpfFilter{FilterAttrs: netlink.FilterAttrs{
		LinkIndex: link.Attrs().Index, Parent: netlink.HANDLE_MIN_EGRESS, Handle: netlink.MakeHandle(0, 1),
		Protocol: unix.ETH_P_ALL, Priority: 1}, Fd: fd, Name: "shoal-loss", DirectAction: true}
	if err := h.FilterAdd(filter); err != nil {
		t.Fatalf("packet dropper on %s in %s: %v", dev, ns.Name, err)
	}
}

// TestSetLoss_dropsAboutTheFraction sends 1,000 datagrams through an interface dropping 20%
// and expects about 800 to arrive (the standard deviation is 13), then none lost once the
// dropper is removed.
func TestSetLoss_dropsAboutTheFraction(t *testing.T) {
	testenv.RequireNetns(t)
	sw := testenv.NewSwitch(t)
	a, b := testenv.NewNetns(t, "la"), testenv.NewNetns(t, "lb")
	sw.Attach(a, "eth0", "10.78.0.1/24")
	sw.Attach(b, "eth0", "10.78.0.2/24")
	var rx net.PacketConn
	if err := b.Do(func() (err error) { rx, err = net.ListenPacket("udp4", "10.78.0.2:9999"); return err }); err != nil {
		t.Fatal(err)
	}
	defer rx.Close()
	tx, err := a.Dial("udp4", "10.78.0.2:9999", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Close()
	send := func(n int) int {
		got := make(chan int)
		go func() {
			buf, count := make([]byte, 16), 0
			for {
				_ = rx.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
				if _, _, err := rx.ReadFrom(buf); err != nil {
					got <- count
					return
				}
				count++
			}
		}()
		for range n {
			_, _ = tx.Write([]byte("x"))
			time.Sleep(100 * time.Microsecond)
		}
		return <-got
	}
	send(10) // resolve the neighbour before anything is dropped
	setLoss(t, a, "eth0", 0.2)
	if got := send(1000); got < 720 || got > 880 {
		t.Errorf("%d of 1000 datagrams arrived through 20%% loss, want about 800", got)
	} else {
		t.Logf("%d of 1000 datagrams arrived through 20%% loss", got)
	}
	setLoss(t, a, "eth0", 0)
	if got := send(500); got != 500 {
		t.Errorf("%d of 500 arrived once the dropper was removed", got)
	}
}
