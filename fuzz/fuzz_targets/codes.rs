//! The codes the matcher targets search for: the 589 codes of the vendor
//! documents plus codes of every other shape of SPEC section 1 (families
//! of other digit counts under shared stems, word codes that are prefixes
//! of others, purely numeric codes), so the fuzzer reaches every path of
//! the automaton.

pub fn codes() -> Vec<&'static str> {
    let mut codes: Vec<&'static str> = include_str!("../../fixtures/matcher/codes.txt")
        .lines()
        .collect();
    codes.extend([
        "DBS.200001",
        "DBS.2001",
        "CBC.18000016",
        "ORA-00942",
        "SVCSTG.CCE-ADDONMGR.4000003",
        "InvalidParameterValue",
        "AuthFailure",
        "AuthFailure.SignatureFailure",
        "ThrottlingException",
        "111404022",
        "10000000",
    ]);
    codes
}
