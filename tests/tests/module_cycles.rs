//! No module of `shared` depends on a module that depends back on it, directly or through a chain.
//!
//! Two modules that need each other can only be read, tested and changed together; a newcomer
//! moving one finds the other in the way. This test parses `shared/src/**/*.rs` with `syn`, builds
//! the module dependency graph and fails naming every cycle, with the lines that make it.
//!
//! How the graph is built:
//! - **A module is a file**: `foo.rs` and `foo/mod.rs` are `foo`, `lib.rs` is the crate root.
//!   Inline modules (`mod b64 { … }`) belong to their file.
//! - **A file depends on every module it names**: `use` trees, and paths in code, types, macro
//!   arguments and attributes (`#[serde(with = "…")]`, `#[utoipa::path(body = …)]`) that start
//!   with `crate::`, `super::`, `self::` or the name of a child module. Doc comments are not
//!   dependencies.
//! - **A path counts as the file that defines the item**: the deepest file module the path names,
//!   followed through that module's `use` items. `crate::booking::Appointment`, which
//!   `booking/mod.rs` re-exports from `booking/appointments.rs`, is a dependency on
//!   `booking::appointments`, so a re-export can neither hide a cycle nor invent one. A glob
//!   (`use m::*`) counts as `m`.
//! - **Parent and child**: a parent declaring `mod child;` and re-exporting its descendants' items
//!   (`pub use child::Item;`) is its table of contents, not a dependency. Anything else a parent
//!   names in a child (a private `use`, a path in its code) is one, and so is a child using its
//!   parent's own items (`super::Error`).
//! - **Test code is left out** (`#[cfg(test)]` items, and the files a `#[cfg(test)] #[path = "…"]`
//!   module declares): nothing can depend on a test module, so it
//!   cannot be part of a real cycle, and counting its imports as its file's would report cycles
//!   the code does not have.
//!
//! The graph is checked at every level of the module tree: within each module `m`, the nodes are
//! `m`'s own file and each child of `m` together with everything below it. So `booking ⇄ asap` is
//! a cycle when anything in `booking` uses anything in `asap` and the other way round, even if no
//! single file imports a file that imports it back; and every cycle between files shows up at the
//! innermost module that holds all of them.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::Path;

use proc_macro2::{Spacing, TokenStream, TokenTree};
use syn::visit::{self, Visit};

/// A module's path below the crate root (`[]` is the root, `["booking", "repo"]` is
/// `crate::booking::repo`).
type ModPath = Vec<String>;

/// Where a dependency was named: file, line and the path as written.
#[derive(Clone, Debug)]
struct Witness {
    file: String,
    line: usize,
    path: String,
}

/// A path named in a file, before it is resolved to the module that defines it.
struct Reference {
    /// The path with `crate`, `super` and `self` resolved: segments below the crate root.
    absolute: ModPath,
    /// Named by a `pub use` (a re-export), which is no dependency when it names a descendant.
    reexport: bool,
    witness: Witness,
}

/// A file's top-level `use` items: the name they bring into scope, and the absolute path it stands
/// for (`None` for a glob, which names no single item).
type Aliases = BTreeMap<String, ModPath>;

/// The crate: every file module with its `use` aliases and the paths it names.
struct Crate {
    files: BTreeMap<ModPath, String>,
    aliases: BTreeMap<ModPath, Aliases>,
    references: BTreeMap<ModPath, Vec<Reference>>,
}

fn module_of(file: &str) -> ModPath {
    let stem = file.strip_suffix(".rs").unwrap_or(file);
    let mut path: ModPath = stem.split('/').map(str::to_owned).collect();
    if path.last().is_some_and(|last| last == "mod") || path == ["lib"] {
        path.pop();
    }
    path
}

fn display(module: &[String]) -> String {
    if module.is_empty() {
        "crate".to_owned()
    } else {
        module.join("::")
    }
}

fn is_cfg_test(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|attr| {
        attr.path().is_ident("cfg")
            && attr
                .parse_args::<syn::Ident>()
                .is_ok_and(|ident| ident == "test")
    })
}

fn item_attrs(item: &syn::Item) -> &[syn::Attribute] {
    use syn::Item as I;
    match item {
        I::Const(i) => &i.attrs,
        I::Enum(i) => &i.attrs,
        I::ExternCrate(i) => &i.attrs,
        I::Fn(i) => &i.attrs,
        I::ForeignMod(i) => &i.attrs,
        I::Impl(i) => &i.attrs,
        I::Macro(i) => &i.attrs,
        I::Mod(i) => &i.attrs,
        I::Static(i) => &i.attrs,
        I::Struct(i) => &i.attrs,
        I::Trait(i) => &i.attrs,
        I::TraitAlias(i) => &i.attrs,
        I::Type(i) => &i.attrs,
        I::Union(i) => &i.attrs,
        I::Use(i) => &i.attrs,
        _ => &[],
    }
}

fn impl_item_attrs(item: &syn::ImplItem) -> &[syn::Attribute] {
    match item {
        syn::ImplItem::Const(i) => &i.attrs,
        syn::ImplItem::Fn(i) => &i.attrs,
        syn::ImplItem::Type(i) => &i.attrs,
        syn::ImplItem::Macro(i) => &i.attrs,
        _ => &[],
    }
}

/// Every leaf of a `use` tree: the path as written (a glob ends at its module), and the name it
/// brings into scope (`None` for a glob).
fn use_leaves(
    tree: &syn::UseTree,
    prefix: &mut Vec<String>,
    out: &mut Vec<(Vec<String>, Option<String>)>,
) {
    match tree {
        syn::UseTree::Path(p) => {
            prefix.push(p.ident.to_string());
            use_leaves(&p.tree, prefix, out);
            prefix.pop();
        }
        syn::UseTree::Name(n) if n.ident == "self" => {
            out.push((prefix.clone(), prefix.last().cloned()));
        }
        syn::UseTree::Name(n) => {
            let mut path = prefix.clone();
            path.push(n.ident.to_string());
            out.push((path, Some(n.ident.to_string())));
        }
        syn::UseTree::Rename(r) => {
            let mut path = prefix.clone();
            if r.ident != "self" {
                path.push(r.ident.to_string());
            }
            out.push((path, Some(r.rename.to_string())));
        }
        syn::UseTree::Glob(_) => out.push((prefix.clone(), None)),
        syn::UseTree::Group(g) => {
            for tree in &g.items {
                use_leaves(tree, prefix, out);
            }
        }
    }
}

/// `segments` as written in `scope`, relative to the crate root; `None` for paths into other
/// crates or to local names.
fn absolute(scope: &[String], segments: &[String], modules: &BTreeSet<ModPath>) -> Option<ModPath> {
    let first = segments.first()?;
    match first.as_str() {
        "crate" => Some(segments[1..].to_vec()),
        "self" | "super" => {
            let mut base = scope.to_vec();
            let mut rest = segments;
            while let Some(head) = rest.first() {
                match head.as_str() {
                    "self" => {}
                    "super" => {
                        base.pop()?;
                    }
                    _ => break,
                }
                rest = &rest[1..];
            }
            base.extend(rest.iter().cloned());
            Some(base)
        }
        name => {
            let mut child = scope.to_vec();
            child.push(name.to_owned());
            modules.contains(&child).then(|| {
                child.extend(segments[1..].iter().cloned());
                child
            })
        }
    }
}

/// Collects one file's references (and, at its top level, its `use` aliases).
struct Collector<'a> {
    file: &'a str,
    file_module: ModPath,
    scope: ModPath,
    modules: &'a BTreeSet<ModPath>,
    references: Vec<Reference>,
    aliases: Aliases,
}

impl Collector<'_> {
    fn note(&mut self, segments: &[String], reexport: bool, line: usize) {
        if let Some(absolute) = absolute(&self.scope, segments, self.modules) {
            self.references.push(Reference {
                absolute,
                reexport,
                witness: Witness {
                    file: self.file.to_owned(),
                    line,
                    path: segments.join("::"),
                },
            });
        }
    }

    /// Paths inside macro arguments and attributes, which `syn` leaves as tokens: `crate::a::b`,
    /// `super::a`, `self::a`, and string literals holding such a path (`with = "super::b64"`).
    fn scan(&mut self, tokens: TokenStream) {
        let tokens: Vec<TokenTree> = tokens.into_iter().collect();
        let mut i = 0;
        while i < tokens.len() {
            match &tokens[i] {
                TokenTree::Group(group) => self.scan(group.stream()),
                TokenTree::Literal(literal) => {
                    let path =
                        syn::parse2::<syn::LitStr>(TokenTree::Literal(literal.clone()).into())
                            .and_then(|text| syn::parse_str::<syn::Path>(&text.value()));
                    if let Ok(path) = path {
                        let segments: Vec<String> =
                            path.segments.iter().map(|s| s.ident.to_string()).collect();
                        if segments.len() > 1 {
                            self.note(&segments, false, literal.span().start().line);
                        }
                    }
                }
                TokenTree::Ident(ident)
                    if ident == "crate" || ident == "super" || ident == "self" =>
                {
                    let mut segments = vec![ident.to_string()];
                    let mut j = i + 1;
                    while let (
                        Some(TokenTree::Punct(a)),
                        Some(TokenTree::Punct(b)),
                        Some(TokenTree::Ident(next)),
                    ) = (tokens.get(j), tokens.get(j + 1), tokens.get(j + 2))
                    {
                        if a.as_char() != ':' || a.spacing() != Spacing::Joint || b.as_char() != ':'
                        {
                            break;
                        }
                        segments.push(next.to_string());
                        j += 3;
                    }
                    if segments.len() > 1 {
                        self.note(&segments, false, ident.span().start().line);
                    }
                    i = j;
                    continue;
                }
                _ => {}
            }
            i += 1;
        }
    }
}

impl<'ast> Visit<'ast> for Collector<'_> {
    fn visit_item(&mut self, item: &'ast syn::Item) {
        if !is_cfg_test(item_attrs(item)) {
            visit::visit_item(self, item);
        }
    }

    fn visit_impl_item(&mut self, item: &'ast syn::ImplItem) {
        if !is_cfg_test(impl_item_attrs(item)) {
            visit::visit_impl_item(self, item);
        }
    }

    fn visit_item_mod(&mut self, item: &'ast syn::ItemMod) {
        for attr in &item.attrs {
            self.visit_attribute(attr);
        }
        if let Some((_, items)) = &item.content {
            self.scope.push(item.ident.to_string());
            for item in items {
                self.visit_item(item);
            }
            self.scope.pop();
        }
    }

    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        if item.leading_colon.is_some() {
            return;
        }
        let reexport = !matches!(item.vis, syn::Visibility::Inherited);
        let line = item.use_token.span.start().line;
        let mut leaves = Vec::new();
        use_leaves(&item.tree, &mut Vec::new(), &mut leaves);
        for (segments, name) in leaves {
            let at_top = self.scope == self.file_module;
            if let (true, Some(name), Some(target)) = (
                at_top,
                &name,
                absolute(&self.scope, &segments, self.modules),
            ) {
                self.aliases.insert(name.clone(), target);
            }
            self.note(&segments, reexport, line);
        }
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        if path.leading_colon.is_none() {
            let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
            let first = segments[0].as_str();
            let rooted = matches!(first, "crate" | "super" | "self");
            if rooted || segments.len() > 1 {
                self.note(&segments, false, path.segments[0].ident.span().start().line);
            }
        }
        visit::visit_path(self, path);
    }

    /// `pub(crate)`, `pub(super)`: who may see an item, not what it uses.
    fn visit_visibility(&mut self, _: &'ast syn::Visibility) {}

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        visit::visit_macro(self, mac);
        self.scan(mac.tokens.clone());
    }

    fn visit_attribute(&mut self, attr: &'ast syn::Attribute) {
        if attr.path().is_ident("doc") {
            return;
        }
        if let syn::Meta::List(list) = &attr.meta {
            self.scan(list.tokens.clone());
        }
    }
}

impl Crate {
    /// Parses `(path below src/, source)` pairs.
    fn parse(sources: &[(String, String)]) -> Crate {
        let parsed: Vec<(&str, syn::File)> = sources
            .iter()
            .map(|(file, text)| {
                let parsed = syn::parse_file(text).unwrap_or_else(|e| panic!("{file}: {e}"));
                (file.as_str(), parsed)
            })
            .collect();
        let tests: BTreeSet<String> = parsed
            .iter()
            .flat_map(|(file, syntax)| test_files(file, &syntax.items))
            .collect();
        let syntax: Vec<(ModPath, &str, syn::File)> = parsed
            .into_iter()
            .filter(|(file, _)| !tests.contains(*file))
            .map(|(file, syntax)| (module_of(file), file, syntax))
            .collect();
        let files: BTreeMap<ModPath, String> = syntax
            .iter()
            .map(|(module, file, _)| (module.clone(), (*file).to_owned()))
            .collect();
        let mut modules: BTreeSet<ModPath> = files.keys().cloned().collect();
        for (module, _, file) in &syntax {
            inline_modules(module, &file.items, &mut modules);
        }
        let mut aliases = BTreeMap::new();
        let mut references = BTreeMap::new();
        for (module, file, parsed) in &syntax {
            let mut collector = Collector {
                file,
                file_module: module.clone(),
                scope: module.clone(),
                modules: &modules,
                references: Vec::new(),
                aliases: Aliases::new(),
            };
            for item in &parsed.items {
                collector.visit_item(item);
            }
            aliases.insert(module.clone(), collector.aliases);
            references.insert(module.clone(), collector.references);
        }
        Crate {
            files,
            aliases,
            references,
        }
    }

    /// The file module that defines what `path` names: its deepest file module, followed through
    /// that module's `use` aliases.
    fn resolve(&self, path: &[String]) -> ModPath {
        let mut path = path.to_vec();
        for _ in 0..32 {
            let depth = (0..=path.len())
                .rev()
                .find(|&n| self.files.contains_key(&path[..n]))
                .unwrap_or(0);
            let module = path[..depth].to_vec();
            let Some(name) = path.get(depth) else {
                return module;
            };
            match self.aliases.get(&module).and_then(|a| a.get(name)) {
                Some(target) if target != &path[..=depth] => {
                    let mut next = target.clone();
                    next.extend(path[depth + 1..].iter().cloned());
                    path = next;
                }
                _ => return module,
            }
        }
        panic!("`use` aliases of {} loop", path.join("::"));
    }

    /// Every dependency between two different files, with the places that make it.
    fn edges(&self) -> BTreeMap<(ModPath, ModPath), Vec<Witness>> {
        let mut edges: BTreeMap<(ModPath, ModPath), Vec<Witness>> = BTreeMap::new();
        for (from, references) in &self.references {
            for reference in references {
                let to = self.resolve(&reference.absolute);
                let table_of_contents = reference.reexport && to.starts_with(from);
                if to != *from && !table_of_contents {
                    edges
                        .entry((from.clone(), to))
                        .or_default()
                        .push(reference.witness.clone());
                }
            }
        }
        edges
    }

    /// Every cycle, at every level of the module tree, as a readable report (empty: none).
    fn cycles(&self) -> Vec<String> {
        let edges = self.edges();
        let mut reports = Vec::new();
        let parents: BTreeSet<ModPath> = self
            .files
            .keys()
            .filter(|m| !m.is_empty())
            .map(|m| m[..m.len() - 1].to_vec())
            .collect();
        for parent in parents {
            // The parent's own file is `None`, each child subtree `Some(child)`.
            let node = |module: &ModPath| -> Option<Option<String>> {
                module
                    .starts_with(&parent)
                    .then(|| module.get(parent.len()).cloned())
            };
            let mut graph: BTreeMap<Option<String>, BTreeMap<Option<String>, Vec<Witness>>> =
                BTreeMap::new();
            for ((from, to), witnesses) in &edges {
                if let (Some(a), Some(b)) = (node(from), node(to)) {
                    if a != b {
                        graph
                            .entry(a)
                            .or_default()
                            .entry(b)
                            .or_default()
                            .extend(witnesses.iter().cloned());
                    }
                }
            }
            let name = |n: &Option<String>| match n {
                None => format!("{} (its own file)", display(&parent)),
                Some(child) => {
                    let mut path = parent.clone();
                    path.push(child.clone());
                    display(&path)
                }
            };
            for (cycle, group) in shortest_cycles(&graph) {
                let mut report = format!(
                    "cycle within {}: {}",
                    display(&parent),
                    cycle
                        .iter()
                        .chain(cycle.first())
                        .map(&name)
                        .collect::<Vec<_>>()
                        .join(" → ")
                );
                if group.len() > cycle.len() {
                    let all: Vec<String> = group.iter().map(&name).collect();
                    report.push_str(&format!("\n  (all tied up together: {})", all.join(", ")));
                }
                for pair in cycle
                    .iter()
                    .chain(cycle.first())
                    .collect::<Vec<_>>()
                    .windows(2)
                {
                    report.push_str(&format!("\n  {} → {}:", name(pair[0]), name(pair[1])));
                    for w in graph[pair[0]][pair[1]].iter().take(4) {
                        report.push_str(&format!("\n    {}:{} `{}`", w.file, w.line, w.path));
                    }
                }
                reports.push(report);
            }
        }
        reports
    }
}

/// The files that `file`'s `#[cfg(test)] #[path = "…"] mod …;` items declare: test code kept in a
/// file of its own (`keys/keyset_tests.rs`), left out like inline test modules.
fn test_files(file: &str, items: &[syn::Item]) -> Vec<String> {
    let dir = file.rsplit_once('/').map_or("", |(dir, _)| dir);
    items
        .iter()
        .filter_map(|item| match item {
            syn::Item::Mod(m) if m.content.is_none() && is_cfg_test(&m.attrs) => {
                m.attrs.iter().find_map(|attr| match &attr.meta {
                    syn::Meta::NameValue(nv) if nv.path.is_ident("path") => match &nv.value {
                        syn::Expr::Lit(syn::ExprLit {
                            lit: syn::Lit::Str(path),
                            ..
                        }) => Some(if dir.is_empty() {
                            path.value()
                        } else {
                            format!("{dir}/{}", path.value())
                        }),
                        _ => None,
                    },
                    _ => None,
                })
            }
            _ => None,
        })
        .collect()
}

fn inline_modules(scope: &ModPath, items: &[syn::Item], out: &mut BTreeSet<ModPath>) {
    for item in items {
        if let syn::Item::Mod(m) = item {
            if let Some((_, inner)) = &m.content {
                let mut path = scope.clone();
                path.push(m.ident.to_string());
                inline_modules(&path, inner, out);
                out.insert(path);
            }
        }
    }
}

/// One shortest cycle per strongly connected group of nodes (through its first node), with the
/// whole group.
fn shortest_cycles<N: Ord + Clone, W>(
    graph: &BTreeMap<N, BTreeMap<N, W>>,
) -> Vec<(Vec<N>, BTreeSet<N>)> {
    let successors = |n: &N| graph.get(n).into_iter().flat_map(|m| m.keys());
    let reachable = |from: &N| {
        let mut seen = BTreeSet::new();
        let mut queue: VecDeque<N> = successors(from).cloned().collect();
        while let Some(n) = queue.pop_front() {
            if seen.insert(n.clone()) {
                queue.extend(successors(&n).cloned());
            }
        }
        seen
    };
    let mut covered = BTreeSet::new();
    let mut cycles = Vec::new();
    let mut groups = Vec::new();
    for start in graph.keys() {
        if covered.contains(start) || !reachable(start).contains(start) {
            continue;
        }
        // Breadth-first from `start` back to itself: the shortest cycle through it.
        let mut previous: BTreeMap<N, N> = BTreeMap::new();
        let mut queue = VecDeque::from([start.clone()]);
        'search: while let Some(n) = queue.pop_front() {
            for next in successors(&n) {
                if next == start {
                    let mut cycle = vec![n.clone()];
                    while let Some(p) = previous.get(&cycle[cycle.len() - 1]) {
                        cycle.push(p.clone());
                    }
                    cycle.reverse();
                    cycles.push(cycle);
                    break 'search;
                }
                if next != start && !previous.contains_key(next) {
                    previous.insert(next.clone(), n.clone());
                    queue.push_back(next.clone());
                }
            }
        }
        // Everything in the same strongly connected group is covered by this report.
        let group: BTreeSet<N> = reachable(start)
            .into_iter()
            .filter(|n| reachable(n).contains(start))
            .collect();
        covered.extend(group.iter().cloned());
        groups.push(group);
    }
    cycles.into_iter().zip(groups).collect()
}

fn sources_under(root: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("reading shared/src") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let relative = path.strip_prefix(root).expect("below src");
                let text = std::fs::read_to_string(&path).expect("a readable source file");
                out.push((relative.to_string_lossy().replace('\\', "/"), text));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn shared_has_no_module_cycles() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/src");
    let sources = sources_under(&src);
    assert!(
        sources.len() > 50,
        "found only {} files in {}",
        sources.len(),
        src.display()
    );
    let cycles = Crate::parse(&sources).cycles();
    assert!(
        cycles.is_empty(),
        "{} module cycle(s) in shared/src:\n\n{}",
        cycles.len(),
        cycles.join("\n\n")
    );
}

// The checker itself, on small crates written for the purpose.

fn fixture(files: &[(&str, &str)]) -> Vec<String> {
    let sources: Vec<(String, String)> = files
        .iter()
        .map(|(f, t)| ((*f).to_owned(), (*t).to_owned()))
        .collect();
    Crate::parse(&sources).cycles()
}

#[test]
fn a_direct_cycle_between_siblings_is_named_with_its_lines() {
    let cycles = fixture(&[
        ("lib.rs", "pub mod a; pub mod b;"),
        ("a.rs", "use crate::b::thing;\npub fn x() {}"),
        ("b.rs", "pub fn thing() {\n    crate::a::x();\n}"),
    ]);
    assert_eq!(cycles.len(), 1, "{cycles:?}");
    assert!(
        cycles[0].starts_with("cycle within crate: a → b → a"),
        "{}",
        cycles[0]
    );
    assert!(
        cycles[0].contains("a.rs:1 `crate::b::thing`"),
        "{}",
        cycles[0]
    );
    assert!(cycles[0].contains("b.rs:2 `crate::a::x`"), "{}", cycles[0]);
}

#[test]
fn a_cycle_between_two_subtrees_counts_even_without_a_file_cycle() {
    let cycles = fixture(&[
        ("lib.rs", "pub mod a; pub mod b;"),
        ("a/mod.rs", "pub mod one; pub mod two;"),
        ("a/one.rs", "use crate::b::one::X;"),
        ("a/two.rs", "pub struct Y;"),
        ("b/mod.rs", "pub mod one; pub mod two;"),
        ("b/one.rs", "pub struct X;"),
        ("b/two.rs", "fn f() -> crate::a::two::Y { todo!() }"),
    ]);
    assert_eq!(cycles.len(), 1, "{cycles:?}");
    assert!(
        cycles[0].starts_with("cycle within crate: a → b → a"),
        "{}",
        cycles[0]
    );
}

#[test]
fn a_parents_table_of_contents_is_no_dependency_but_its_own_items_are() {
    let tree = [
        ("lib.rs", "pub mod p;"),
        (
            "p/mod.rs",
            "pub mod q;\npub use q::Item;\npub struct Error;",
        ),
        ("p/q.rs", "use super::Error;\npub struct Item;"),
    ];
    assert_eq!(fixture(&tree), Vec::<String>::new());
    let uses_child = [
        tree[0],
        (
            "p/mod.rs",
            "pub mod q;\npub struct Error;\nfn f(_: q::Item) {}",
        ),
        tree[2],
    ];
    let cycles = fixture(&uses_child);
    assert_eq!(cycles.len(), 1, "{cycles:?}");
    assert!(cycles[0].starts_with("cycle within p: p (its own file) → p::q → p (its own file)"));
}

#[test]
fn re_exports_are_followed_to_the_defining_module() {
    let cycles = fixture(&[
        ("lib.rs", "pub mod p;"),
        ("p/mod.rs", "pub mod q;\npub mod r;\npub use r::Z;"),
        ("p/q.rs", "use super::Z;\npub struct Item;"),
        ("p/r.rs", "pub struct Z(pub super::q::Item);"),
    ]);
    assert_eq!(cycles.len(), 1, "{cycles:?}");
    assert!(
        cycles[0].starts_with("cycle within p: p::q → p::r → p::q"),
        "{}",
        cycles[0]
    );
}

#[test]
fn paths_in_macros_and_attributes_count_and_test_code_does_not() {
    let in_macro = fixture(&[
        ("lib.rs", "pub mod a; pub mod b;"),
        (
            "a.rs",
            "pub fn x() -> String { format!(\"{}\", crate::b::y()) }",
        ),
        (
            "b.rs",
            "#[serde(with = \"crate::a::x\")]\npub struct S;\npub fn y() {}",
        ),
    ]);
    assert_eq!(in_macro.len(), 1, "{in_macro:?}");
    let in_tests = fixture(&[
        ("lib.rs", "pub mod a; pub mod b;"),
        ("a.rs", "pub fn x() { crate::b::y() }"),
        (
            "b.rs",
            "pub fn y() {}\n#[cfg(test)]\nmod tests { use crate::a::x; }",
        ),
    ]);
    assert_eq!(in_tests, Vec::<String>::new());
    // Test code in a file of its own (`#[path]`) is left out too, and only when it is test code.
    let in_test_file = |cfg: &str| {
        let b = format!("pub fn y() {{}}\n{cfg}\n#[path = \"b_tests.rs\"]\nmod tests;");
        fixture(&[
            ("lib.rs", "pub mod a; pub mod b;"),
            ("a.rs", "pub fn x() { crate::b::y() }"),
            ("b/mod.rs", b.as_str()),
            ("b/b_tests.rs", "use crate::a::x;"),
        ])
    };
    assert_eq!(in_test_file("#[cfg(test)]"), Vec::<String>::new());
    assert_eq!(in_test_file("").len(), 1);
}
