/// When an organisation e-mails a person about their own sign-in (issue
/// 14): from outside every zone, from a browser that has not signed in to
/// the account before, both, or never (the default).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SigninNotices {
    pub outside: bool,
    pub new_device: bool,
}

impl SigninNotices {
    /// The words of the organisation file (`notify_signins = ["outside",
    /// "new_device"]`).
    pub const WORDS: [&'static str; 2] = ["outside", "new_device"];

    /// Adds one word; false for a word that is none of [`Self::WORDS`].
    pub fn add(&mut self, word: &str) -> bool {
        match word {
            "outside" => self.outside = true,
            "new_device" => self.new_device = true,
            _ => return false,
        }
        true
    }

    /// As stored: the words, comma-separated.
    #[must_use]
    pub fn to_storage(self) -> String {
        let mut w = Vec::new();
        if self.outside {
            w.push("outside");
        }
        if self.new_device {
            w.push("new_device");
        }
        w.join(",")
    }

    /// From storage; unknown words are ignored (a newer server's word).
    #[must_use]
    pub fn from_storage(s: &str) -> Self {
        let mut n = Self::default();
        for w in s.split(',') {
            n.add(w.trim());
        }
        n
    }

    #[must_use]
    pub fn any(self) -> bool {
        self.outside || self.new_device
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_round_trip() {
        let mut n = SigninNotices::default();
        assert_eq!(n.to_storage(), "");
        assert!(n.add("new_device"));
        assert!(!n.add("always"));
        assert_eq!(SigninNotices::from_storage(&n.to_storage()), n);
        assert!(n.any() && !n.outside);
        assert_eq!(
            SigninNotices::from_storage("outside,new_device,x"),
            SigninNotices {
                outside: true,
                new_device: true
            }
        );
    }
}
