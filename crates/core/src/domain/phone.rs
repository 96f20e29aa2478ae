use std::fmt;
use thiserror::Error;

/// A mobile number for SMS codes, kept as digits only in international
/// form (`46701234567`). People may type `070-123 45 67` or
/// `+46 70 123 45 67`; both normalise to the same number. Letters or other
/// symbols are refused with a clear message (seed 004: "endast siffror").
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PhoneNumber(String);

#[derive(Debug, Error, PartialEq, Eq)]
pub enum PhoneError {
    #[error("only digits, spaces, dashes and a leading + are allowed")]
    NotDigits,
    #[error("a mobile number has 8 to 15 digits")]
    Length,
    /// A country code the organisation does not accept for codes, or a
    /// Swedish number that is not a mobile one (premium-rate 0900/0939/0944,
    /// landlines): issue 10 L1.
    #[error("numbers from this country or of this kind are not accepted")]
    NotAccepted,
}

impl PhoneNumber {
    /// # Errors
    /// Letters or symbols, or a length that cannot be a mobile number.
    pub fn parse(input: &str) -> Result<Self, PhoneError> {
        let s = input.trim();
        let (plus, rest) = match s.strip_prefix('+') {
            Some(r) => (true, r),
            None => (false, s),
        };
        if rest.is_empty()
            || !rest
                .chars()
                .all(|c| c.is_ascii_digit() || c == ' ' || c == '-')
        {
            return Err(PhoneError::NotDigits);
        }
        let digits: String = rest.chars().filter(char::is_ascii_digit).collect();
        let international = if plus {
            digits
        } else if let Some(r) = digits.strip_prefix("00") {
            r.to_owned()
        } else if let Some(r) = digits.strip_prefix('0') {
            format!("46{r}")
        } else {
            digits
        };
        if !(8..=15).contains(&international.len()) || international.starts_with('0') {
            return Err(PhoneError::Length);
        }
        Ok(Self(international))
    }

    #[must_use]
    pub fn from_stored(s: String) -> Self {
        Self(s)
    }

    /// Digits only, international, as stored and sent to the gateway.
    #[must_use]
    pub fn digits(&self) -> &str {
        &self.0
    }

    /// Whether `code` (digits) is a whole E.164 country calling code in
    /// shape: the codes are prefix-free, and only 1 and 7 have one digit,
    /// so `4` (which would match +40…+49) or `467` are refused.
    #[must_use]
    pub fn is_country_code(code: &str) -> bool {
        const TWO: [&str; 44] = [
            "20", "27", "30", "31", "32", "33", "34", "36", "39", "40", "41", "43", "44", "45",
            "46", "47", "48", "49", "51", "52", "53", "54", "55", "56", "57", "58", "60", "61",
            "62", "63", "64", "65", "66", "81", "82", "84", "86", "90", "91", "92", "93", "94",
            "95", "98",
        ];
        if !code.bytes().all(|b| b.is_ascii_digit()) || code.starts_with('0') {
            return false;
        }
        match code.len() {
            1 => code == "1" || code == "7",
            2 => TWO.contains(&code),
            3 => !code.starts_with(['1', '7']) && !TWO.contains(&&code[..2]),
            _ => false,
        }
    }

    /// Whether codes may be sent here: the number starts with one of the
    /// organisation's country codes (digits, `46` by default), and a Swedish
    /// number is a mobile one (07x nationally), never premium-rate.
    ///
    /// # Errors
    /// [`PhoneError::NotAccepted`].
    pub fn check_accepted(&self, country_codes: &[String]) -> Result<(), PhoneError> {
        let Some(cc) = country_codes
            .iter()
            .find(|c| !c.is_empty() && self.0.starts_with(c.as_str()))
        else {
            return Err(PhoneError::NotAccepted);
        };
        // Swedish mobile series (PTS): 070, 072, 073, 076, 079, nine
        // digits after 0; never 071 (machine-to-machine), 074/075/077/078,
        // premium rate (0900, 0939, 0944) or landlines.
        const SWEDISH_MOBILE: [&str; 5] = ["4670", "4672", "4673", "4676", "4679"];
        if cc == "46"
            && !(self.0.len() == 11 && SWEDISH_MOBILE.iter().any(|p| self.0.starts_with(p)))
        {
            return Err(PhoneError::NotAccepted);
        }
        Ok(())
    }

    /// `+46 70… 67`: enough to choose between two numbers, not to harvest them.
    #[must_use]
    pub fn masked(&self) -> String {
        let n = self.0.len();
        format!(
            "+{}…{}",
            &self.0[..n.min(4)],
            &self.0[n.saturating_sub(2)..]
        )
    }
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "+{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn swedish_and_international_forms_normalise() {
        let want = PhoneNumber("46701234567".into());
        for s in [
            "0701234567",
            "070-123 45 67",
            "+46 70 123 45 67",
            "0046701234567",
            "46701234567",
        ] {
            assert_eq!(PhoneNumber::parse(s), Ok(want.clone()), "{s}");
        }
        assert_eq!(want.masked(), "+4670…67");
    }

    #[test]
    fn only_the_organisations_countries_and_swedish_mobiles_are_accepted_l1() {
        let sweden = vec!["46".to_owned()];
        let ok = PhoneNumber::parse("070-123 45 67").unwrap();
        assert_eq!(ok.check_accepted(&sweden), Ok(()));
        for bad in [
            "+1 900 555 0100",
            "0900-123 456",
            "0939 123 456",
            "08-123 456 78",
            "+44 7700 900123",
            "071-123 45 67",
            "077-123 45 67",
            "070-123 45 678",
        ] {
            assert_eq!(
                PhoneNumber::parse(bad).unwrap().check_accepted(&sweden),
                Err(PhoneError::NotAccepted),
                "{bad}"
            );
        }
        let nordic = vec!["46".to_owned(), "47".to_owned()];
        assert_eq!(
            PhoneNumber::parse("+47 412 34 567")
                .unwrap()
                .check_accepted(&nordic),
            Ok(())
        );
        assert_eq!(ok.check_accepted(&[]), Err(PhoneError::NotAccepted));
    }

    #[test]
    fn country_codes_are_whole_codes() {
        for ok in ["46", "47", "358", "1", "7", "354", "299"] {
            assert!(PhoneNumber::is_country_code(ok), "{ok}");
        }
        for bad in ["4", "5", "0", "467", "461", "1900", "", "4a", "12", "70"] {
            assert!(!PhoneNumber::is_country_code(bad), "{bad}");
        }
    }

    #[test]
    fn letters_and_odd_lengths_are_refused() {
        assert_eq!(
            PhoneNumber::parse("070-ABC 45 67"),
            Err(PhoneError::NotDigits)
        );
        assert_eq!(
            PhoneNumber::parse("070.123.45.67"),
            Err(PhoneError::NotDigits)
        );
        assert_eq!(PhoneNumber::parse(""), Err(PhoneError::NotDigits));
        assert_eq!(PhoneNumber::parse("0701"), Err(PhoneError::Length));
        assert_eq!(
            PhoneNumber::parse("+1234567890123456"),
            Err(PhoneError::Length)
        );
    }
}
