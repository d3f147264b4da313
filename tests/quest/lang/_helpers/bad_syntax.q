# A module that does not parse: syntax_errors_test.q imports it.
pub fun fine() 1 end

pub fun broken(
    a b
end
