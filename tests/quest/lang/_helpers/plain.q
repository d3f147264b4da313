pub fun answer() 42 end
