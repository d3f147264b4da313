"""
Geometry helpers used by modules_test.q.
"""

pub const UNIT = 1
pub let version = "1.0"
let hidden_factor = 10
const HIDDEN_CONST = 5
let call_count = 0

pub fun square(x)
    call_count += 1
    x * x
end

pub fun scaled(x) x * hidden_factor end

pub fun calls() call_count end

fun private_helper() "private" end

pub fun uses_private() private_helper() .. "+" .. HIDDEN_CONST end

pub type Vec2
    pub x: Num
    pub y: Num
    fun len2() self.x * self.x + self.y * self.y end
end

pub trait HasArea
    fun area()
end

type HiddenType
    pub a: Int
end
