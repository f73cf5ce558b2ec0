//! Reading comma-separated header lists and merging `Vary`.
//!
//! A list-valued header may arrive as one line or several; HTTP treats `a, b` and two lines `a`
//! and `b` alike, so every function here reads all lines of a header.

use std::collections::HashSet;
use std::hash::{Hash, Hasher};

use bytes::{BufMut, BytesMut};
use http::header::{GetAll, HeaderMap, HeaderValue, VARY};

/// Iterates over the comma-separated elements of every line of a header, with surrounding
/// whitespace trimmed and empty elements skipped.
pub(crate) fn elements<'a>(lines: GetAll<'a, HeaderValue>) -> impl Iterator<Item = &'a [u8]> {
    lines
        .into_iter()
        .flat_map(|line| line.as_bytes().split(|&byte| byte == b','))
        .map(<[u8]>::trim_ascii)
        .filter(|element| !element.is_empty())
}

/// Merges the response's `Vary` lines so that no token appears twice across them (compared
/// case-insensitively) and `Vary: *` stays `*`, adding `token` when given and not yet present.
///
/// The common cases (no `Vary` yet, or `token` already present) do not allocate; only duplicate
/// tokens from the inner service call for a rewrite.
pub(crate) fn merge_vary(headers: &mut HeaderMap, token: Option<&'static str>) {
    let mut has_token = token.is_none();
    let mut has_star = false;
    let mut count = 0_usize;
    for element in elements(headers.get_all(VARY)) {
        count += 1;
        has_token |= token.is_some_and(|token| element.eq_ignore_ascii_case(token.as_bytes()));
        has_star |= element == b"*";
    }

    if has_star {
        if count > 1 || headers.get_all(VARY).iter().count() > 1 {
            headers.insert(VARY, HeaderValue::from_static("*"));
        }
        return;
    }
    if count > 1 && has_duplicates(headers, count) {
        rewrite_vary(headers, token);
        return;
    }
    if let (Some(token), false) = (token, has_token) {
        headers.append(VARY, HeaderValue::from_static(token));
    }
}

/// Up to this many `Vary` tokens, duplicates are found by comparing pairs, without allocating;
/// beyond it a hash set keeps the check linear in the number of tokens.
const PAIRWISE_LIMIT: usize = 16;

fn has_duplicates(headers: &HeaderMap, count: usize) -> bool {
    if count <= PAIRWISE_LIMIT {
        let mut seen = elements(headers.get_all(VARY)).enumerate();
        return seen.any(|(index, element)| {
            elements(headers.get_all(VARY))
                .take(index)
                .any(|earlier| earlier.eq_ignore_ascii_case(element))
        });
    }
    let mut seen = HashSet::with_capacity(count);
    !elements(headers.get_all(VARY)).all(|element| seen.insert(CaseInsensitive(element)))
}

/// Replaces all `Vary` lines with one line holding each token once, in first-seen order, with
/// `token` added at the end if missing.
#[cold]
fn rewrite_vary(headers: &mut HeaderMap, token: Option<&'static str>) {
    let mut seen = HashSet::new();
    let token = token.map(str::as_bytes);
    let mut joined = BytesMut::new();
    for element in elements(headers.get_all(VARY)).chain(token) {
        if !seen.insert(CaseInsensitive(element)) {
            continue;
        }
        if !joined.is_empty() {
            joined.put_slice(b", ");
        }
        joined.put_slice(element);
    }
    // The bytes come from valid header values, minus commas and whitespace, so they stay valid.
    if let Ok(value) = HeaderValue::from_maybe_shared(joined.freeze()) {
        headers.insert(VARY, value);
    }
}

/// A header token compared and hashed without regard to ASCII case.
#[derive(Clone, Copy)]
struct CaseInsensitive<'a>(&'a [u8]);

impl PartialEq for CaseInsensitive<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.0.eq_ignore_ascii_case(other.0)
    }
}

impl Eq for CaseInsensitive<'_> {}

impl Hash for CaseInsensitive<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_usize(self.0.len());
        for byte in self.0 {
            state.write_u8(byte.to_ascii_lowercase());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vary_after_adding_origin(lines: &[&'static str]) -> Vec<String> {
        let mut headers = HeaderMap::new();
        for line in lines {
            headers.append(VARY, HeaderValue::from_static(line));
        }
        merge_vary(&mut headers, Some("Origin"));
        headers
            .get_all(VARY)
            .iter()
            .map(|value| value.to_str().unwrap().to_owned())
            .collect()
    }

    #[test]
    fn elements_across_lines_trimmed() {
        let mut headers = HeaderMap::new();
        headers.append(VARY, HeaderValue::from_static(" a ,b,, \t"));
        headers.append(VARY, HeaderValue::from_static("c"));
        let found: Vec<&[u8]> = elements(headers.get_all(VARY)).collect();
        assert_eq!(found, [&b"a"[..], b"b", b"c"]);
    }

    #[test]
    fn vary_added_when_missing() {
        assert_eq!(vary_after_adding_origin(&[]), ["Origin"]);
    }

    #[test]
    fn vary_added_as_new_line_beside_other_tokens() {
        assert_eq!(
            vary_after_adding_origin(&["Accept-Encoding"]),
            ["Accept-Encoding", "Origin"]
        );
    }

    #[test]
    fn vary_kept_when_token_present_in_other_case() {
        assert_eq!(
            vary_after_adding_origin(&["accept-encoding, origin"]),
            ["accept-encoding, origin"]
        );
    }

    #[test]
    fn vary_star_kept() {
        assert_eq!(vary_after_adding_origin(&["*"]), ["*"]);
    }

    #[test]
    fn vary_star_with_other_tokens_becomes_star() {
        assert_eq!(vary_after_adding_origin(&["Accept", "*"]), ["*"]);
    }

    #[test]
    fn vary_duplicates_merged_into_one_line() {
        assert_eq!(
            vary_after_adding_origin(&["Accept-Encoding, origin", "ACCEPT-ENCODING", "Cookie"]),
            ["Accept-Encoding, origin, Cookie"]
        );
    }

    #[test]
    fn vary_many_tokens_merged_in_linear_time() {
        // 20,000 distinct tokens and one repeat, past the pairwise limit: a quadratic merge would
        // make 200 million comparisons here.
        let tokens: Vec<String> = (0..20_000).map(|index| format!("h{index}")).collect();
        let line = format!("{}, H0", tokens.join(","));
        let mut headers = HeaderMap::new();
        headers.insert(VARY, HeaderValue::from_str(&line).unwrap());
        merge_vary(&mut headers, Some("Origin"));
        let merged: Vec<&[u8]> = elements(headers.get_all(VARY)).collect();
        assert_eq!(merged.len(), 20_001);
        assert_eq!(merged[0], b"h0");
        assert_eq!(merged[20_000], b"Origin");
    }

    #[test]
    fn vary_duplicates_past_pairwise_limit_found() {
        let mut headers = HeaderMap::new();
        for index in 0..PAIRWISE_LIMIT + 4 {
            headers.append(VARY, HeaderValue::from_str(&format!("x-{index}")).unwrap());
        }
        headers.append(VARY, HeaderValue::from_static("X-3"));
        merge_vary(&mut headers, None);
        assert_eq!(headers.get_all(VARY).iter().count(), 1);
        assert_eq!(elements(headers.get_all(VARY)).count(), PAIRWISE_LIMIT + 4);
    }

    #[test]
    fn vary_duplicates_merged_without_token() {
        let mut headers = HeaderMap::new();
        headers.append(VARY, HeaderValue::from_static("Accept, origin"));
        headers.append(VARY, HeaderValue::from_static("ACCEPT"));
        merge_vary(&mut headers, None);
        assert_eq!(
            headers.get_all(VARY).iter().collect::<Vec<_>>(),
            ["Accept, origin"]
        );
    }

    #[test]
    fn vary_without_token_untouched_when_unique() {
        let mut headers = HeaderMap::new();
        headers.append(VARY, HeaderValue::from_static("Accept"));
        headers.append(VARY, HeaderValue::from_static("Cookie"));
        merge_vary(&mut headers, None);
        assert_eq!(
            headers.get_all(VARY).iter().collect::<Vec<_>>(),
            ["Accept", "Cookie"]
        );
    }

    #[test]
    fn vary_duplicates_merged_and_token_added() {
        assert_eq!(
            vary_after_adding_origin(&["Accept", "accept"]),
            ["Accept, Origin"]
        );
    }
}
