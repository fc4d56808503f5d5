// Syntax tree of a parsed template: expressions and statements, as plain tagged structs the
// evaluator walks with a switch. The tree is immutable after parsing.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "chat/value.h"

namespace qlm::chat {

enum class ExprKind {
  kLiteral,   // literal
  kName,      // name
  kList,      // args = elements
  kTuple,     // args = elements
  kDict,      // args = key0, value0, key1, value1, ...
  kGetAttr,   // args[0] . name
  kGetItem,   // args[0] [ args[1] ]
  kSlice,     // args[0] [ args[1] : args[2] : args[3] ], absent parts are null
  kCall,      // args[0] ( args[1..], kwargs )
  kFilter,    // args[0] | name ( args[1..], kwargs )
  kTest,      // args[0] is [not] name ( args[1..] )
  kNot,       // not args[0]
  kNeg,       // - args[0]
  kPos,       // + args[0]
  kBinary,    // args[0] op args[1], op in + - * / // % ** ~
  kAnd,       // args[0] and args[1]
  kOr,        // args[0] or args[1]
  kCompare,   // args[0] ops[0] args[1] ops[1] args[2] ..., ops in == != < <= > >= in notin
  kCondExpr,  // args[0] if args[1] else args[2] (args[2] null: Undefined)
};

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Expr {
  ExprKind kind;
  int line = 0;
  Value literal;
  std::string name;  // name, attribute, filter/test name or binary operator
  std::vector<ExprPtr> args;
  std::vector<std::pair<std::string, ExprPtr>> kwargs;
  std::vector<std::string> ops;
  bool negated = false;
};

enum class StmtKind { kText, kPrint, kIf, kFor, kSet, kSetBlock, kMacro, kBreak, kContinue };

struct Stmt;
using StmtPtr = std::unique_ptr<Stmt>;
using Body = std::vector<StmtPtr>;

struct Stmt {
  StmtKind kind;
  int line = 0;
  std::string text;                  // kText data; kSetBlock/kMacro name
  ExprPtr expr;                      // kPrint value, kFor iterable, kSet value
  std::vector<std::string> targets;  // kFor loop variables, kSet names (or the namespace name)
  std::string attr;                  // kSet: non-empty for {% set ns.attr = ... %}
  ExprPtr filter;                    // kFor: {% for x in xs if cond %}
  std::vector<std::pair<ExprPtr, Body>> branches;       // kIf: (condition, body) per if/elif
  Body body;                                            // kFor, kSetBlock, kMacro
  Body else_body;                                       // kIf else, kFor else
  std::vector<std::pair<std::string, ExprPtr>> params;  // kMacro: name and default (may be null)
  // Names undefined at entry to this statement's scopes (see scopes.h): body = loop body,
  // macro body or set-block body; else = loop else.
  std::vector<std::string> body_undefined;
  std::vector<std::string> else_undefined;
};

// A parsed template: its statements and the names undefined at its start (see scopes.h).
struct Template {
  Body body;
  std::vector<std::string> undefined;
};

}  // namespace qlm::chat
