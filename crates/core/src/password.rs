//! Password complexity (等保 2.0 practice: at least 8 characters from at least three of
//! upper case, lower case, digits and symbols; not containing the account name).

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum WeakPassword {
    #[error("密码长度至少 8 位、至多 128 位")]
    Length,
    #[error("密码须包含大写字母、小写字母、数字、符号中的至少三类")]
    Classes,
    #[error("密码不能包含用户名")]
    ContainsUsername,
}

pub fn check_complexity(username: &str, password: &str) -> Result<(), WeakPassword> {
    let n = password.chars().count();
    if !(8..=128).contains(&n) {
        return Err(WeakPassword::Length);
    }
    let classes = [
        password.chars().any(|c| c.is_ascii_uppercase()),
        password.chars().any(|c| c.is_ascii_lowercase()),
        password.chars().any(|c| c.is_ascii_digit()),
        password.chars().any(|c| !c.is_ascii_alphanumeric()),
    ];
    if classes.iter().filter(|&&b| b).count() < 3 {
        return Err(WeakPassword::Classes);
    }
    if !username.is_empty() && password.to_lowercase().contains(&username.to_lowercase()) {
        return Err(WeakPassword::ContainsUsername);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules() {
        assert_eq!(check_complexity("wang", "Ab1!"), Err(WeakPassword::Length));
        assert_eq!(
            check_complexity("wang", "abcdefgh1"),
            Err(WeakPassword::Classes)
        );
        assert_eq!(
            check_complexity("wang", "Wang2024!x"),
            Err(WeakPassword::ContainsUsername)
        );
        assert_eq!(check_complexity("wang", "Civgrid@2026"), Ok(()));
        assert_eq!(check_complexity("wang", "网格管理员a1!"), Ok(()));
    }
}
