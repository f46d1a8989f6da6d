-- Cases that print: with --json and --tap, stdout must carry the report alone.
print("plain print from the file body")

test("prints and passes", function()
  print("print from a passing case", 42)
  io.write("io.write from a case\n")
end)

test("prints and fails", function()
  print("print from a failing case")
  fail("on purpose")
end)
