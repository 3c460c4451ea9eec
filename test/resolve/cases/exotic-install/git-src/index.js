module.exports = 'g'
