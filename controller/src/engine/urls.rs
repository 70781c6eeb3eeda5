//! The URLs a client hands the controller, checked at the door: where callbacks go and where
//! an instance's endpoint is. Neither is ever quoted back or logged whole (a query may hold a
//! token, and a URL may be long).

use url::Url;

use super::OperationError;

/// The longest `callbackURL` taken.
pub(crate) const MAX_CALLBACK_URL: usize = 2048;

/// Checks a `callbackURL`: at most [`MAX_CALLBACK_URL`] bytes, an absolute http or https URL
/// with a host.
pub(crate) fn callback(url: Option<String>) -> Result<Option<String>, OperationError> {
    let Some(url) = url else { return Ok(None) };
    if url.len() > MAX_CALLBACK_URL {
        return Err(OperationError::Invalid(format!(
            "callbackURL must be at most {MAX_CALLBACK_URL} bytes long"
        )));
    }
    match Url::parse(&url) {
        Ok(parsed) if web(&parsed) => Ok(Some(url)),
        _ => Err(OperationError::Invalid(
            "callbackURL must be an absolute http or https URL".into(),
        )),
    }
}

/// Checks that an endpoint's base URL is an absolute http or https URL with a host.
pub(crate) fn web_endpoint(url: &str) -> Result<Url, OperationError> {
    Url::parse(url).ok().filter(web).ok_or_else(|| {
        OperationError::Invalid("endpoint must be an absolute http or https URL".into())
    })
}

/// Checks an endpoint's base URL at install: an absolute http or https URL with a host and
/// without a query, fragment or user info, so that paths below it are the endpoint's.
pub(crate) fn endpoint(url: &str) -> Result<(), OperationError> {
    let parsed = web_endpoint(url)?;
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(OperationError::Invalid(
            "endpoint must not have a query or a fragment: paths are added below it".into(),
        ));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(OperationError::Invalid(
            "endpoint must not carry a user name or password".into(),
        ));
    }
    Ok(())
}

fn web(url: &Url) -> bool {
    matches!(url.scheme(), "http" | "https") && url.host().is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callback_urls_are_short_absolute_web_urls() {
        for good in ["http://127.0.0.1:9/cb", "https://hooks.example/x?token=1"] {
            assert!(callback(Some(good.into())).is_ok(), "{good}");
        }
        let long = format!("http://example.com/{}", "a".repeat(MAX_CALLBACK_URL));
        for bad in [
            "ftp://example.com/",
            "/relative",
            "http://",
            "mailto:a@b",
            long.as_str(),
        ] {
            assert!(callback(Some(bad.into())).is_err(), "{bad}");
        }
        assert!(callback(None).expect("none").is_none());
    }

    #[test]
    fn endpoint_urls_have_no_query_fragment_or_user() {
        assert!(endpoint("http://127.0.0.1:19999/anything/").is_ok());
        for bad in [
            "http://127.0.0.1:19999/anything?x=1",
            "http://127.0.0.1:19999/anything#x",
            "http://user:pw@127.0.0.1:19999/",
            "http://user@127.0.0.1:19999/",
            "file:///etc",
            "nope",
        ] {
            assert!(endpoint(bad).is_err(), "{bad}");
        }
    }
}
