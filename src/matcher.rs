//! TEMPORARY stand-in with the agreed API until the engine branch is merged.
use crate::catalog::CodeId;
pub type PrefixId = u16;
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct UnknownCode {
    pub prefix: PrefixId,
    pub number: u16,
}
#[derive(Debug, thiserror::Error)]
#[error("matcher")]
pub struct MatcherError;
pub struct Matcher(Vec<String>);
impl Matcher {
    pub fn new<'a>(codes: impl IntoIterator<Item = &'a str>) -> Result<Matcher, MatcherError> {
        let _: Vec<CodeId> = Vec::new();
        Ok(Matcher(codes.into_iter().map(String::from).collect()))
    }
    pub fn prefix(&self, id: PrefixId) -> &str {
        &self.0[id as usize]
    }
    pub fn prefix_count(&self) -> usize {
        self.0.len()
    }
}
