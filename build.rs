// Embeds templates/ into the binary as the default templates; a site's own templates/ folder
// overrides them by name at run time.
fn main() {
    minijinja_embed::embed_templates!("templates");
}
