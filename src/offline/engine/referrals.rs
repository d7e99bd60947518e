//! `referrals.create_code` and `redeem_code`.

use serde::Deserialize;
use serde_json::{json, Value};

use super::super::state::ReferralCode;
use super::input::{read, Code, CustomerId, ProgramId, Text};
use super::{bad, Engine, Outcome, Reply};

/// The body of `referrals.create_code`.
#[derive(Default, Deserialize)]
#[serde(default)]
struct CreateCodeBody {
    customer_id: Text<CustomerId>,
    program_id: Text<ProgramId>,
}

/// The body of `referrals.redeem_code`.
#[derive(Default, Deserialize)]
#[serde(default)]
struct RedeemCodeBody {
    customer_id: Text<CustomerId>,
    code: Text<Code>,
}

impl Engine {
    pub(super) fn create_code(&mut self, body: &Value) -> Outcome {
        let CreateCodeBody {
            customer_id,
            program_id,
            ..
        } = read(body)?;
        let (customer_id, program_id) = (customer_id.required()?, program_id.required()?);
        self.ensure_customer(&customer_id, body.get("customer_data"))?;
        if let Some(existing) = self
            .codes
            .values()
            .find(|c| c.customer_id == customer_id && c.program_id == program_id)
        {
            return Ok(json!({
                "code": existing.code,
                "customer_id": customer_id,
                "created_at": existing.created_at,
            }));
        }
        self.seq += 1;
        let code = format!("REF{:06}", self.seq);
        self.codes.insert(
            code.clone(),
            ReferralCode {
                code: code.clone(),
                customer_id: customer_id.clone(),
                program_id,
                created_at: self.now,
            },
        );
        Ok(json!({ "code": code, "customer_id": customer_id, "created_at": self.now }))
    }

    pub(super) fn redeem_code(&mut self, body: &Value) -> Outcome {
        let RedeemCodeBody {
            customer_id, code, ..
        } = read(body)?;
        let (customer_id, code) = (customer_id.required()?, code.required()?);
        let owner = self.codes.get(&code).ok_or_else(|| {
            Reply::error(
                404,
                "referral_code_not_found",
                format!("Referral code {code:?} not found"),
            )
        })?;
        if owner.customer_id == customer_id {
            return Err(bad("A customer cannot redeem their own referral code"));
        }
        if self
            .redemptions
            .iter()
            .any(|(c, who)| c == &code && who == &customer_id)
        {
            return Err(bad(format!(
                "Customer {customer_id:?} already redeemed the code {code:?}"
            )));
        }
        let reward_id = format!("{}_reward", owner.program_id);
        self.ensure_customer(&customer_id, body.get("customer_data"))?;
        self.redemptions.push((code, customer_id.clone()));
        let id = self.next_id("redemption");
        Ok(json!({ "id": id, "customer_id": customer_id, "reward_id": reward_id }))
    }
}
