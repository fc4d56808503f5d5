// Mirrors jinja2's Symbols/FrameSymbolVisitor: loads, stores and if-branch merging decide each
// scope's initial bindings (resolve from context, alias an outer variable, or undefined).
#include "chat/scopes.h"

#include <map>
#include <set>

namespace qlm::chat {
namespace {

enum class Load { kParameter, kResolve, kAlias, kUndefined };

struct Symbols {
  const Symbols* parent = nullptr;
  std::map<std::string, Load> refs;  // this scope's own variables and how they start
  std::set<std::string> stores;

  bool find_ref(const std::string& name) const {
    return refs.count(name) || (parent && parent->find_ref(name));
  }
  void load(const std::string& name) {
    if (!find_ref(name)) refs[name] = Load::kResolve;
  }
  void store(const std::string& name) {
    stores.insert(name);
    if (refs.count(name)) return;
    refs[name] = (parent && parent->find_ref(name)) ? Load::kAlias : Load::kUndefined;
  }
  void declare_parameter(const std::string& name) {
    stores.insert(name);
    refs[name] = Load::kParameter;
  }
  // A name stored in only some branches of an if keeps its outer meaning on the others.
  void branch_update(const std::vector<Symbols>& branches) {
    std::map<std::string, size_t> counts;
    for (const Symbols& b : branches)
      for (const std::string& t : b.stores)
        if (!stores.count(t)) ++counts[t];
    for (const Symbols& b : branches) {
      for (const auto& [name, how] : b.refs) refs[name] = how;
      stores.insert(b.stores.begin(), b.stores.end());
    }
    for (const auto& [name, count] : counts) {
      if (count == branches.size()) continue;
      refs[name] = (parent && parent->find_ref(name)) ? Load::kAlias : Load::kResolve;
    }
  }
  std::vector<std::string> undefined_names() const {
    std::vector<std::string> out;
    for (const auto& [name, how] : refs)
      if (how == Load::kUndefined) out.push_back(name);
    return out;
  }
};

void visit_expr(const Expr& e, Symbols& sym) {
  if (e.kind == ExprKind::kName) sym.load(e.name);
  for (const ExprPtr& a : e.args)
    if (a) visit_expr(*a, sym);
  for (const auto& kw : e.kwargs) visit_expr(*kw.second, sym);
}

void visit_stmt(const Stmt& s, Symbols& sym);

void visit_body(const Body& body, Symbols& sym) {
  for (const StmtPtr& s : body) visit_stmt(*s, sym);
}

// One jinja If node: test, body, elif nodes (each an If of its own), else.
void visit_if(const Stmt& s, size_t first, bool with_rest, Symbols& sym) {
  visit_expr(*s.branches[first].first, sym);
  Symbols body = sym, elifs = sym, otherwise = sym;
  visit_body(s.branches[first].second, body);
  if (with_rest) {
    for (size_t k = first + 1; k < s.branches.size(); ++k) visit_if(s, k, false, elifs);
    visit_body(s.else_body, otherwise);
  }
  sym.branch_update({body, elifs, otherwise});
}

// jinja2's FrameSymbolVisitor: statements that open a scope are only looked at from outside.
void visit_stmt(const Stmt& s, Symbols& sym) {
  switch (s.kind) {
    case StmtKind::kPrint:
      visit_expr(*s.expr, sym);
      break;
    case StmtKind::kIf:
      visit_if(s, 0, true, sym);
      break;
    case StmtKind::kFor:
      visit_expr(*s.expr, sym);
      break;
    case StmtKind::kSet:
      visit_expr(*s.expr, sym);
      if (!s.attr.empty()) {
        sym.load(s.targets[0]);  // namespace attribute: a load of the namespace
      } else {
        for (const std::string& t : s.targets) sym.store(t);
      }
      break;
    case StmtKind::kSetBlock:
    case StmtKind::kMacro:
      sym.store(s.text);
      break;
    default:
      break;
  }
}

void analyze_nested(Body& body, const Symbols& scope);

Symbols analyze_scope(Body& body, const Symbols* parent, const std::vector<std::string>& params,
                      const Stmt* macro) {
  Symbols sym;
  sym.parent = parent;
  for (const std::string& p : params) sym.declare_parameter(p);
  if (macro)
    for (const auto& [name, def] : macro->params)
      if (def) visit_expr(*def, sym);
  visit_body(body, sym);
  analyze_nested(body, sym);
  return sym;
}

// Analyzes the scopes opened inside `body` (through if-branches, which share the scope).
void analyze_nested(Body& body, const Symbols& scope) {
  for (StmtPtr& s : body) {
    switch (s->kind) {
      case StmtKind::kIf:
        for (auto& branch : s->branches) analyze_nested(branch.second, scope);
        analyze_nested(s->else_body, scope);
        break;
      case StmtKind::kFor: {
        std::vector<std::string> params = s->targets;
        params.push_back("loop");
        s->body_undefined = analyze_scope(s->body, &scope, params, nullptr).undefined_names();
        s->else_undefined = analyze_scope(s->else_body, &scope, {}, nullptr).undefined_names();
        break;
      }
      case StmtKind::kMacro: {
        std::vector<std::string> params;
        for (const auto& p : s->params) params.push_back(p.first);
        s->body_undefined = analyze_scope(s->body, &scope, params, s.get()).undefined_names();
        break;
      }
      case StmtKind::kSetBlock:
        s->body_undefined = analyze_scope(s->body, &scope, {}, nullptr).undefined_names();
        break;
      default:
        break;
    }
  }
}

}  // namespace

std::vector<std::string> resolve_scopes(Body& body) {
  return analyze_scope(body, nullptr, {}, nullptr).undefined_names();
}

}  // namespace qlm::chat
