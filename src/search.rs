//! TEMPORARY stand-in with the agreed API until the engine branch is merged.
use crate::catalog::CodeId;
use crate::matcher::{Matcher, UnknownCode};
use std::io::{self, Read};
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Position {
    pub offset: u64,
    pub line: u64,
}
pub trait Sink {
    fn known(&mut self, _id: CodeId, _pos: Position) {}
    fn unknown(&mut self, _code: UnknownCode, _pos: Position) {}
}
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    pub bytes: u64,
    pub lines: u64,
}
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ResumePoint {
    pub offset: u64,
    pub line: u64,
    pub before: Option<u8>,
}
impl ResumePoint {
    pub const START: ResumePoint = ResumePoint {
        offset: 0,
        line: 1,
        before: None,
    };
}
pub struct Searcher;
impl Searcher {
    pub fn new(_buffer_bytes: usize) -> Searcher {
        Searcher
    }
    pub fn reset(&mut self) {}
    pub fn read_available<R: Read, S: Sink>(
        &mut self,
        _m: &Matcher,
        mut rdr: R,
        _sink: &mut S,
    ) -> io::Result<u64> {
        let mut v = Vec::new();
        rdr.read_to_end(&mut v)?;
        Ok(v.len() as u64)
    }
    pub fn finish<S: Sink>(&mut self, _m: &Matcher, _sink: &mut S) -> Totals {
        Totals::default()
    }
    pub fn resume_point(&self) -> ResumePoint {
        ResumePoint::default()
    }
    pub fn resume(&mut self, _p: ResumePoint) {}
    pub fn totals(&self) -> Totals {
        Totals::default()
    }
    pub fn search_reader<R: Read, S: Sink>(
        &mut self,
        _m: &Matcher,
        mut rdr: R,
        _sink: &mut S,
    ) -> io::Result<Totals> {
        let mut v = Vec::new();
        rdr.read_to_end(&mut v)?;
        Ok(Totals {
            bytes: v.len() as u64,
            lines: 0,
        })
    }
}
