package templates

import (
	"context"
	"math"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

// calcResult is the result of every basic_calculator tool.
type calcResult struct {
	Result    float64 `json:"result" jsonschema:"the outcome of the operation on a and b"`
	Operation string  `json:"operation" jsonschema:"enum=add,enum=subtract,enum=multiply,enum=divide"`
	A         float64 `json:"a" jsonschema:"the first operand"`
	B         float64 `json:"b" jsonschema:"the second operand"`
}

// calcOp is one arithmetic tool.
type calcOp struct {
	name, description string
	apply             func(a, b float64) (float64, error)
}

var calcOps = []calcOp{
	{"add", "Add two numbers: a + b.", func(a, b float64) (float64, error) { return a + b, nil }},
	{"subtract", "Subtract b from a: a - b.", func(a, b float64) (float64, error) { return a - b, nil }},
	{"multiply", "Multiply two numbers: a * b.", func(a, b float64) (float64, error) { return a * b, nil }},
	{"divide", "Divide a by b: a / b. Fails when b is 0.", divide},
}

func divide(a, b float64) (float64, error) {
	if b == 0 {
		return 0, errDivideByZero
	}
	return a / b, nil
}

// newCalculatorServer builds basic_calculator: add, subtract, multiply and
// divide on JSON numbers (64-bit floats).
func newCalculatorServer(Options) (*server.MCPServer, error) {
	var tools []server.ServerTool
	for _, op := range calcOps {
		tools = append(tools, server.ServerTool{Tool: calcTool(op), Handler: handle(calcHandler(op))})
	}
	return newMCPServer(BasicCalculator, tools...), nil
}

func calcTool(op calcOp) mcp.Tool {
	return mcp.NewTool(op.name,
		mcp.WithDescription(op.description+` Returns {"result", "operation", "a", "b"}.`),
		mcp.WithNumber("a", mcp.Required(), mcp.Description("First operand (a JSON number).")),
		mcp.WithNumber("b", mcp.Required(), mcp.Description("Second operand (a JSON number).")),
		mcp.WithOutputSchema[calcResult](),
		readOnly(false),
	)
}

// calcHandler checks both operands are numbers and that the result is finite.
func calcHandler(op calcOp) toolFunc {
	return func(_ context.Context, in args) (any, error) {
		a, err := in.number("a")
		if err != nil {
			return nil, err
		}
		b, err := in.number("b")
		if err != nil {
			return nil, err
		}
		r, err := op.apply(a, b)
		if err != nil {
			return nil, err
		}
		if math.IsInf(r, 0) || math.IsNaN(r) {
			return nil, errNotFinite
		}
		return calcResult{Result: r, Operation: op.name, A: a, B: b}, nil
	}
}
