package conntrack

import (
	"testing"

	"golang.org/x/net/bpf"
)

// TestOpcodes: each opcode the filter uses is what x/net/bpf assembles for
// the same instruction (the kernel test runs the whole filter).
func TestOpcodes(t *testing.T) {
	for _, tc := range []struct {
		name string
		code uint16
		k    uint32
		in   bpf.Instruction
	}{
		{"ld imm", opLdImm, 20, bpf.LoadConstant{Dst: bpf.RegA, Val: 20}},
		{"ldx imm", opLdxImm, 3, bpf.LoadConstant{Dst: bpf.RegX, Val: 3}},
		{"nlattr", opLdAbsW, skfAdOff + skfAdNlattr, bpf.LoadExtension{Num: bpf.ExtNetlinkAttr}},
		{"nlattr nest", opLdAbsW, skfAdOff + skfAdNlattrNest, bpf.LoadExtension{Num: bpf.ExtNetlinkAttrNested}},
		{"ld ind b", opLdIndB, 4, bpf.LoadIndirect{Off: 4, Size: 1}},
		{"ld ind h", opLdIndH, 4, bpf.LoadIndirect{Off: 4, Size: 2}},
		{"ld mem", opLdMem, 0, bpf.LoadScratch{Dst: bpf.RegA, N: 0}},
		{"st", opSt, 0, bpf.StoreScratch{Src: bpf.RegA, N: 0}},
		{"tax", opTax, 0, bpf.TAX{}},
		{"jeq", opJeq, 17, bpf.JumpIf{Cond: bpf.JumpEqual, Val: 17}},
		{"ja", opJa, 5, bpf.Jump{Skip: 5}},
		{"ret", opRet, 0xffffffff, bpf.RetConstant{Val: 0xffffffff}},
	} {
		want, err := tc.in.Assemble()
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := (bpf.RawInstruction{Op: tc.code, K: tc.k}); got != want {
			t.Errorf("%s: got %+v, want %+v", tc.name, got, want)
		}
	}
}

// TestAssembleJumps: labels become forward skips; a missing or backward
// target and a conditional skip beyond 255 are errors.
func TestAssembleJumps(t *testing.T) {
	prog, err := assemble([]op{
		{code: opJeq, k: 6, to: "b"},
		{code: opJa, to: "b"},
		{label: "a", code: opRet, k: 0},
		{label: "b", code: opRet, k: 1},
	})
	if err != nil {
		t.Fatal(err)
	}
	if prog[0].Jt != 2 || prog[0].Jf != 0 || prog[0].K != 6 || prog[1].K != 1 {
		t.Errorf("got %+v", prog)
	}
	long := []op{{code: opJeq, to: "end"}}
	for i := 0; i < 256; i++ {
		long = append(long, op{code: opTax})
	}
	long = append(long, op{label: "end", code: opRet})
	for name, p := range map[string][]op{
		"missing":  {{code: opJa, to: "x"}, {code: opRet}},
		"backward": {{label: "x", code: opRet}, {code: opJa, to: "x"}},
		"too far":  long,
	} {
		if _, err := assemble(p); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
