//! The template environment: built-in templates embedded at build time, overridden by the
//! site's own `templates/`, strict about undefined values, JSON-escaping every value that a
//! `*.yaml.j2` template prints so no site string can break the YAML structure.

use minijinja::syntax::SyntaxConfig;
use minijinja::{Environment, UndefinedBehavior};

/// Builds the environment. `overrides` are the site's templates (name relative to
/// `templates/` -> text); an override with a built-in's name replaces it.
pub fn environment(
    overrides: &[(String, String)],
) -> Result<Environment<'static>, minijinja::Error> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    // The default callback picks JSON escaping for `*.yaml.j2`; JSON scalars are YAML scalars.
    // Block tags on their own lines leave no blank lines behind.
    env.set_syntax(
        SyntaxConfig::builder()
            .trim_blocks(true)
            .lstrip_blocks(true)
            .keep_trailing_newline(true)
            .build()?,
    );
    minijinja_embed::load_templates!(&mut env);
    for (name, text) in overrides {
        env.add_template_owned(name.clone(), text.clone())?;
    }
    Ok(env)
}

/// Names of the templates of one component folder, sorted.
pub fn component_templates(env: &Environment<'_>, component: &str) -> Vec<String> {
    let prefix = format!("{component}/");
    let mut names: Vec<String> = env
        .templates()
        .map(|(n, _)| n.to_owned())
        .filter(|n| n.starts_with(&prefix) && n.ends_with(".yaml.j2"))
        .collect();
    names.sort();
    names
}
